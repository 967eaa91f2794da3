import { ErrorCodes, ModelError } from '../errors.js';

/**
 * A strict reader for the safetensors container (https://github.com/huggingface/safetensors):
 *   u64 little-endian header length N | N bytes of UTF-8 JSON | data section.
 * It trusts nothing in the file: every length and offset is checked against the bytes actually
 * present before anything is allocated, so a hostile file costs at most its own size.
 */

export interface Tensor {
  shape: number[];
  /** A fresh, 4-byte aligned copy (file Buffers may be unaligned views of a shared pool). */
  data: Float32Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, Tensor>;
}

/** Headers of real GRU checkpoints are a few KiB; anything past this is not a model of ours. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function formatError(message: string, details: Record<string, unknown> = {}): ModelError {
  return new ModelError(ErrorCodes.ERR_MODEL_FORMAT, `invalid safetensors file: ${message}`, details);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.byteLength < 8) throw formatError(`${bytes.byteLength} bytes is shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    throw formatError(`header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes after it (or the ${MAX_HEADER_BYTES}-byte limit)`);
  }
  const n = Number(headerLength);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw formatError('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw formatError(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(header)) throw formatError('header JSON is not an object');
  return { header, dataStart: 8 + n };
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw formatError('__metadata__ is not an object');
  const metadata: Record<string, string> = Object.create(null);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw formatError(`__metadata__.${key} is not a string`, { key });
    metadata[key] = v;
  }
  return metadata;
}

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

function readEntry(name: string, value: unknown, dataLength: number): Entry {
  if (!isRecord(value)) throw formatError(`tensor "${name}" entry is not an object`, { tensor: name });
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw formatError(`tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}`, { tensor: name });
  }
  if (dtype !== 'F32') {
    throw new ModelError(ErrorCodes.ERR_MODEL_FORMAT, `tensor "${name}" is ${dtype}; gru-stream reads float32 tensors only (save with model.float())`, { tensor: name, dtype });
  }
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw formatError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`, { tensor: name });
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw formatError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`, { tensor: name });
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) {
    throw formatError(`tensor "${name}" data_offsets [${begin}, ${end}] fall outside the ${dataLength}-byte data section`, { tensor: name });
  }
  // Multiply with an early exit so a shape like [2^40, 2^40] cannot overflow into a "valid" size.
  let elements = 1;
  for (const d of shape as number[]) {
    elements *= d;
    if (elements * 4 > dataLength) break;
  }
  if (elements * 4 !== end - begin) {
    throw formatError(`tensor "${name}" shape ${JSON.stringify(shape)} needs ${elements * 4} bytes but data_offsets span ${end - begin}`, { tensor: name });
  }
  return { name, shape: shape as number[], begin, end };
}

/** Parse and validate a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  const { header, dataStart } = readHeader(bytes);
  const dataLength = bytes.byteLength - dataStart;
  const metadata = readMetadata(header.__metadata__);
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    entries.push(readEntry(name, value, dataLength));
  }
  // The format requires tensors to tile the data section without overlap; overlap would let one
  // tensor silently alias another.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw formatError(`tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`, { tensor: sorted[i].name });
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart, dataLength);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const data = new Float32Array((e.end - e.begin) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(e.begin + 4 * i, true);
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { metadata, tensors };
}

/** Serialise float32 tensors and string metadata as a safetensors file (tests and tools use it). */
export function writeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i], true);
  }
  return out;
}
