/**
 * Byte surgery on safetensors files for corruption tests: split a file into its parsed header and
 * data section, and join them back, with the header written verbatim (so tests can plant invalid
 * JSON, non-UTF-8 bytes or a lying length). Deliberately independent of src/model/safetensors.ts.
 */

export interface SplitFile {
  header: Record<string, unknown>;
  data: Uint8Array;
}

export function headerLength(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
}

/** Only for files known to be valid (the fixtures, writeSafetensors output). */
export function splitFile(bytes: Uint8Array): SplitFile {
  const n = Number(headerLength(bytes));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.slice(8 + n) };
}

/** header: an object (JSON-encoded), a string (UTF-8 encoded as is) or raw bytes. */
export function joinFile(header: unknown, data: Uint8Array, claimedLength?: bigint): Uint8Array {
  const headerBytes = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, claimedLength ?? BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

export function withHeaderLength(bytes: Uint8Array, n: bigint): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

/** A deep copy of the header, edited by `edit`, joined back onto the original data. */
export function editHeader(bytes: Uint8Array, edit: (header: Record<string, any>) => unknown): Uint8Array {
  const { header, data } = splitFile(bytes);
  const copy = structuredClone(header);
  const replaced = edit(copy);
  return joinFile(replaced === undefined ? copy : replaced, data);
}

/** Overwrite element `index` of tensor `name` (float32, little-endian) in a copy of the file. */
export function setFloat(bytes: Uint8Array, name: string, index: number, value: number): Uint8Array {
  const { header } = splitFile(bytes);
  const entry = header[name] as { data_offsets: [number, number] };
  const out = bytes.slice();
  const dataStart = 8 + Number(headerLength(bytes));
  new DataView(out.buffer).setFloat32(dataStart + entry.data_offsets[0] + 4 * index, value, true);
  return out;
}

/** Append a float32 tensor with its own bytes at the end of the data section. */
export function addTensor(bytes: Uint8Array, name: string, shape: number[], values: number[]): Uint8Array {
  const { header, data } = splitFile(bytes);
  const extra = new Uint8Array(new Float32Array(values).buffer);
  const grown = new Uint8Array(data.length + extra.length);
  grown.set(data);
  grown.set(extra, data.length);
  return joinFile({ ...header, [name]: { dtype: 'F32', shape, data_offsets: [data.length, grown.length] } }, grown);
}
