import { headerLength, joinFile, splitFile, withHeaderLength } from './safetensors-bytes.js';

/**
 * Ways to damage a valid safetensors model file, for model-fuzz.test.ts. Each takes the original
 * bytes and a seeded `rng` and returns new bytes (the input is never modified). Byte mutators work
 * on any file; header mutators parse the (valid) original, edit the JSON and re-join it with the
 * original data section, so they reach the checks behind the JSON parse.
 */
export type Rng = () => number;
export type Mutator = (bytes: Uint8Array, rng: Rng) => Uint8Array;

const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)];

function dataStart(bytes: Uint8Array): number {
  return 8 + Number(headerLength(bytes));
}

function setBytes(bytes: Uint8Array, rng: Rng, lo: number, hi: number): Uint8Array {
  const out = bytes.slice();
  const n = 1 + int(rng, 4);
  for (let i = 0; i < n && hi > lo; i++) out[lo + int(rng, hi - lo)] ^= 1 + int(rng, 255);
  return out;
}

/** Values that have broken parsers before: boundaries, wrong types, prototype keys. */
export const WEIRD_NUMBERS = [-1, 0, 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300, 0.5, -0];
const WEIRD_VALUES: unknown[] = [...WEIRD_NUMBERS, '0', '', 'F32', null, true, [], {}, [0], [[0]], { __proto__: null }];
const WEIRD_NAMES = ['__proto__', 'constructor', 'toString', '', 'gru.weight_ih_l9', 'gru.weight_ih_l1', 'W_z', 'l0.W_z', 'l3.b_h', 'head.weight', 'head.bias', '__metadata__'];
export const META_KEYS = ['format', 'input_size', 'hidden_size', 'num_layers', 'output_size', 'variant', 'module', 'columns', 'norm_mean', 'norm_std', 'transform', 'horizon', '__proto__'];
export const META_STRINGS = ['', '0', '1', '-1', '1.5', '1e3', ' 2 ', '0x10', 'NaN', 'Infinity', '99999999999999999999', 'abc', 'seed', 'pytorch', 'keras', 'zscore', 'log_return+zscore', 'none', 'gru-forecaster', 'a,b', '1,2,3,4', '1,,2', '0,0', '\u0000', '\ud800'];
const DTYPES: unknown[] = ['F16', 'BF16', 'F64', 'I32', 'U8', 'BOOL', 'X', '', 'f32', 'toString', '__proto__', 5, null, ['F32']];
export const SPECIAL_FLOATS = [NaN, Infinity, -Infinity, 3.4028234663852886e38, -3.4028234663852886e38, 1e30, 1e-45, -0];

type Header = Record<string, any>;
function tensorNames(h: Header): string[] {
  return Object.keys(h).filter((k) => k !== '__metadata__');
}

function editJson(edit: (h: Header, rng: Rng, dataLength: number) => unknown): Mutator {
  return (bytes, rng) => {
    const { header, data } = splitFile(bytes);
    const h = structuredClone(header);
    const replaced = edit(h, rng, data.length);
    return joinFile(replaced === undefined ? h : replaced, data);
  };
}

export const MUTATORS: Record<string, Mutator> = {
  truncate: (b, rng) => b.slice(0, int(rng, b.length)),
  flipLengthPrefix: (b, rng) => setBytes(b, rng, 0, 8),
  flipHeaderBytes: (b, rng) => setBytes(b, rng, 8, dataStart(b)),
  flipDataBytes: (b, rng) => setBytes(b, rng, dataStart(b), b.length),
  flipAnyBytes: (b, rng) => setBytes(b, rng, 0, b.length),
  headerLength: (b, rng) => {
    const n = BigInt(dataStart(b) - 8);
    const choices = [2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 2n ** 32n, BigInt(b.length - 7), BigInt(b.length) + BigInt(int(rng, 1 << 20)), n + 1n + BigInt(int(rng, 1000)), n - 1n - BigInt(int(rng, Number(n))), 0n];
    return withHeaderLength(b, pick(rng, choices));
  },
  nonUtf8Header: (b, rng) => {
    const out = b.slice();
    const at = 8 + int(rng, dataStart(b) - 8);
    out.set(pick(rng, [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]).slice(0, dataStart(b) - at), at);
    return out;
  },
  specialFloat: (b, rng) => {
    const out = b.slice();
    const start = dataStart(b);
    const floats = Math.floor((b.length - start) / 4);
    if (floats > 0) new DataView(out.buffer).setFloat32(start + 4 * int(rng, floats), pick(rng, SPECIAL_FLOATS), true);
    return out;
  },
  offsets: editJson((h, rng, dataLength) => {
    const names = tensorNames(h);
    const e = h[pick(rng, names)];
    const other = h[pick(rng, names)];
    const [b, end] = e.data_offsets as [number, number];
    e.data_offsets = pick(rng, [
      [end, b], [b, end + 4], [b - 4, end - 4], [b + 4, end + 4], [0, dataLength + 4], [b, 2 ** 53], [2 ** 53, 2 ** 53 + 4],
      [...other.data_offsets], [b, b], [-4, end], [b + 0.5, end], [b], [b, end, end], String(b), null,
      [int(rng, dataLength + 8), int(rng, dataLength + 8)],
    ]);
  }),
  shape: editJson((h, rng) => {
    const e = h[pick(rng, tensorNames(h))];
    const s = e.shape as number[];
    e.shape = pick(rng, [
      [...s].reverse(), s.map((d, i) => (i === 0 ? d + 1 : d)), s.map((d, i) => (i === s.length - 1 ? d - 1 : d)), [...s, 1], s.slice(1), [],
      [2 ** 53 - 1, 2 ** 53 - 1], [...s, 0], [-1, ...s], s.map(String), [1, 1, 1, 1, 1, 1, 1, 1, 1], [s.reduce((a, d) => a * d, 1)], 'shape', [pick(rng, WEIRD_NUMBERS)],
    ]);
  }),
  dtype: editJson((h, rng) => void (h[pick(rng, tensorNames(h))].dtype = pick(rng, DTYPES))),
  entryValue: editJson((h, rng) => void (h[pick(rng, tensorNames(h))] = pick(rng, WEIRD_VALUES))),
  removeTensor: editJson((h, rng) => void delete h[pick(rng, tensorNames(h))]),
  renameTensor: editJson((h, rng) => {
    const from = pick(rng, tensorNames(h));
    const to = pick(rng, WEIRD_NAMES);
    const entry = h[from];
    delete h[from];
    // Written as text: an assignment to h.__proto__ would set the prototype, not a key.
    return JSON.stringify(h).replace(/^\{/, `{${JSON.stringify(to)}:${JSON.stringify(entry)},`);
  }),
  metadataValue: editJson((h, rng) => {
    const meta = (h.__metadata__ ??= {});
    const key = pick(rng, [...Object.keys(meta), ...META_KEYS]);
    const value = rng() < 0.8 ? pick(rng, META_STRINGS) : pick(rng, WEIRD_VALUES);
    if (rng() < 0.2) delete meta[key];
    else return JSON.stringify(h).replace('"__metadata__":{', `"__metadata__":{${JSON.stringify(key)}:${JSON.stringify(value)},`);
    return undefined;
  }),
  metadataObject: editJson((h, rng) => {
    if (rng() < 0.3) delete h.__metadata__;
    else h.__metadata__ = pick(rng, WEIRD_VALUES);
  }),
  wholeHeader: editJson((_h, rng) => pick(rng, ['[]', '[1,2]', '42', '"gru"', 'null', 'true', '{}', '{"__proto__":{}}', '', ' ', '{"a":', '{"__metadata__":{}}'])),
  protoKey: editJson((h, rng) => {
    const names = tensorNames(h);
    const text = JSON.stringify(h);
    const entry = JSON.stringify(h[names[0]]);
    return pick(rng, [
      text.replace(/^\{/, '{"__proto__":{"polluted":"yes"},'),
      text.replace(/^\{/, `{"__proto__":${entry},`),
      text.replace(`"${names[0]}":${entry}`, `"${names[0]}":{"__proto__":${entry}}`),
      text.replace(`"${names[0]}":{`, `"${names[0]}":{"__proto__":{"dtype":"F16"},`),
    ]);
  }),
};
