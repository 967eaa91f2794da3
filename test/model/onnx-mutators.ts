import { type Mutator, type Rng, META_KEYS, META_STRINGS, SPECIAL_FLOATS, WEIRD_NUMBERS } from './mutators.js';
import { editModel } from './onnx-writer.js';

/**
 * Ways to damage a valid ONNX model file, for model-fuzz.test.ts. Byte mutators cut and flip the
 * protobuf; structural ones decode it, edit one field of the graph and encode it again, so they
 * reach the checks behind a successful decode: dims, data types, op types, wiring, attributes,
 * metadata.
 */

const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)];

const OPS = ['GRU', 'Slice', 'Squeeze', 'Unsqueeze', 'Concat', 'Gather', 'Shape', 'Constant', 'ConstantOfShape', 'Expand', 'Identity', 'Cast', 'Transpose', 'MatMul', 'Add', 'Gemm', 'Relu', 'LSTM', 'RNN', 'Loop', ''];
const DATA_TYPES = [0, 1, 2, 6, 7, 10, 11, 16, 99];
const ATTRIBUTE_NAMES = ['hidden_size', 'linear_before_reset', 'direction', 'activations', 'clip', 'layout', 'axis', 'axes', 'perm', 'transB', 'alpha', 'value'];
const DIMS = (d: number[]): number[][] => [[...d].reverse(), d.map((x, i) => (i === 0 ? x + 1 : x)), d.map((x, i) => (i === d.length - 1 ? x - 1 : x)), [...d, 1], d.slice(1), [], [2 ** 40, 2 ** 40], [-1, ...d], [0, ...d], Array(9).fill(1)];

type Obj = Record<string, any>;
function graphEdit(edit: (g: Obj, rng: Rng, model: Obj) => void): Mutator {
  return (bytes, rng) => editModel(bytes, (model) => edit(model.graph, rng, model));
}

function setBytes(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = bytes.slice();
  const n = 1 + int(rng, 4);
  for (let i = 0; i < n; i++) out[int(rng, out.length)] ^= 1 + int(rng, 255);
  return out;
}

export const ONNX_MUTATORS: Record<string, Mutator> = {
  truncate: (b, rng) => b.slice(0, int(rng, b.length)),
  flipAnyBytes: setBytes,
  dims: graphEdit((g, rng) => {
    const t = pick(rng, g.initializer as Obj[]);
    t.dims = pick(rng, DIMS(t.dims ?? []));
  }),
  dataType: graphEdit((g, rng) => void (pick(rng, g.initializer as Obj[]).data_type = pick(rng, DATA_TYPES))),
  rawData: graphEdit((g, rng) => {
    const t = pick(rng, g.initializer as Obj[]);
    const raw: Uint8Array = t.raw_data ?? new Uint8Array(0);
    const choice = int(rng, 3);
    if (choice === 0) t.raw_data = raw.slice(0, int(rng, raw.length));
    else if (choice === 1) {
      delete t.raw_data;
      t.float_data = Array.from({ length: int(rng, 8) }, () => pick(rng, SPECIAL_FLOATS));
    } else t.data_location = 1;
  }),
  specialFloat: graphEdit((g, rng) => {
    const floats = (g.initializer as Obj[]).filter((t) => t.data_type === 1 && t.raw_data?.length >= 4);
    if (floats.length === 0) return;
    const t = pick(rng, floats);
    const raw = Buffer.from(t.raw_data);
    raw.writeFloatLE(pick(rng, SPECIAL_FLOATS), 4 * int(rng, raw.length / 4));
    t.raw_data = raw;
  }),
  removeInitializer: graphEdit((g, rng) => void (g.initializer as Obj[]).splice(int(rng, g.initializer.length), 1)),
  removeNode: graphEdit((g, rng) => void (g.node as Obj[]).splice(int(rng, g.node.length), 1)),
  opType: graphEdit((g, rng) => void (pick(rng, g.node as Obj[]).op_type = pick(rng, OPS))),
  nodeInput: graphEdit((g, rng) => {
    const node = pick(rng, g.node as Obj[]);
    const names = [...(g.node as Obj[]).flatMap((n) => n.output ?? []), ...(g.initializer as Obj[]).map((t) => t.name), ...(g.input as Obj[]).map((i) => i.name), '', 'missing'];
    node.input = [...(node.input ?? [])];
    if (node.input.length === 0 || rng() < 0.2) node.input.push(pick(rng, names));
    else node.input[int(rng, node.input.length)] = pick(rng, names);
  }),
  attribute: graphEdit((g, rng) => {
    const node = pick(rng, g.node as Obj[]);
    const attrs: Obj[] = (node.attribute ??= []);
    if (attrs.length > 0 && rng() < 0.3) {
      attrs.splice(int(rng, attrs.length), 1);
      return;
    }
    const name = pick(rng, ATTRIBUTE_NAMES);
    attrs.push(pick(rng, [
      { name, type: 2, i: pick(rng, WEIRD_NUMBERS.filter(Number.isSafeInteger)) },
      { name, type: 1, f: pick(rng, [0, 0.5, 2, NaN]) },
      { name, type: 3, s: Buffer.from(pick(rng, ['reverse', 'bidirectional', 'forward', 'Relu'])) },
      { name, type: 7, ints: [1, 0, 2].slice(0, 1 + int(rng, 3)) },
      { name, type: 8, strings: [Buffer.from('Sigmoid'), Buffer.from(pick(rng, ['Tanh', 'Relu']))] },
    ]));
  }),
  outputs: graphEdit((g, rng) => {
    if (rng() < 0.5) (g.output as Obj[]).splice(int(rng, g.output.length), 1);
    else (g.output as Obj[]).push({ name: pick(rng, (g.node as Obj[]).flatMap((n) => n.output ?? [])) });
  }),
  metadata: graphEdit((_g, rng, model) => {
    const props: Obj[] = (model.metadata_props ??= []);
    const key = pick(rng, [...props.map((p) => p.key), ...META_KEYS]);
    if (rng() < 0.2) model.metadata_props = props.filter((p) => p.key !== key);
    else props.push({ key, value: pick(rng, META_STRINGS) });
  }),
};
