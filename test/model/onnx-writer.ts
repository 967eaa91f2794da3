import { onnxSchema } from '../../src/model/onnx/onnx-proto.js';
import type { RandomModel } from './random-model.js';

/**
 * Writes a GRU model as ONNX laid out the way torch.onnx.export (PyTorch 1.13, opset 14) lays out
 * nn.GRU + nn.Linear (see the dumps of test/fixtures/golden/*.onnx and models/sunspot_gru.onnx):
 * per layer Constant/Slice of h0, a GRU node with W, R, B initializers in gate order z, r, h, a
 * Squeeze of the direction axis; a Concat of the Y_h outputs into h_n; a MatMul + Add head. The
 * variants (zero h0 built from Shape/Gather/Unsqueeze/Concat/ConstantOfShape, batch_first
 * Transposes, a last-step Gather + Gemm head, linear_before_reset 0) are what the exporter emits
 * for those module configurations. There is no torch here, so this is how the tests get unseen
 * graph shapes with a safetensors twin to compare against.
 */
export interface OnnxExportOptions {
  /** 'matmul': per-step MatMul + Add (nn.Linear on [T, B, H]); 'gemm': Linear on the last step; 'gemm-transB0': weight stored [H, O]. */
  head?: 'matmul' | 'gemm' | 'gemm-transB0' | 'none';
  /** 'input': an h0 graph input sliced per layer; 'zeros': forward() without h0; 'folded': that zero h0 constant-folded (fixed batch size). */
  h0?: 'input' | 'zeros' | 'folded';
  batchFirst?: boolean;
  metadata?: Record<string, string>;
  /** Extra nodes appended as-is (for refusal tests), and a hook to edit the graph object before encoding. */
  edit?: (graph: GraphObject) => void;
}

export interface NodeObject {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute?: object[];
}

export interface GraphObject {
  node: NodeObject[];
  initializer: object[];
  input: object[];
  output: object[];
  name: string;
}

const FLOAT = 1;
const INT64 = 7;

export function floatTensor(name: string, dims: number[], data: ArrayLike<number>): object {
  const raw = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) raw.writeFloatLE(data[i], 4 * i);
  return { name, dims, data_type: FLOAT, raw_data: raw };
}

export function intTensor(name: string, dims: number[], data: number[]): object {
  const raw = Buffer.alloc(8 * data.length);
  data.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), 8 * i));
  return { name, dims, data_type: INT64, raw_data: raw };
}

function valueInfo(name: string, dims: Array<number | string>): object {
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } };
}

const intAttr = (name: string, i: number): object => ({ name, type: 2, i });
const intsAttr = (name: string, ints: number[]): object => ({ name, type: 7, ints });
const tensorAttr = (name: string, t: object): object => ({ name, type: 4, t });

/** PyTorch gate blocks r, z, n -> ONNX z, r, h, for `rows`-row blocks of `cols`. */
function toOnnxGates(src: Float32Array, H: number, cols: number): Float32Array {
  const block = H * cols;
  const out = new Float32Array(3 * block);
  out.set(src.subarray(block, 2 * block), 0);
  out.set(src.subarray(0, block), block);
  out.set(src.subarray(2 * block, 3 * block), 2 * block);
  return out;
}

/** An ONNX export of a PyTorch-variant random model (tensors named as in its state_dict). */
export function exportOnnx(model: RandomModel, options: OnnxExportOptions = {}): Uint8Array {
  const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = model.sizes;
  const headKind = O > 0 ? (options.head ?? 'matmul') : 'none';
  const h0Kind = options.h0 ?? 'input';
  const t = (name: string): Float32Array => model.tensors[name].data;
  const g: GraphObject = { node: [], initializer: [], input: [], output: [], name: 'main_graph' };
  let constants = 0;
  const constant = (ints: number[], scalar = false): string => {
    const out = `/gru/Constant_${constants}_output_0`;
    g.node.push({ op_type: 'Constant', name: `/gru/Constant_${constants++}`, input: [], output: [out], attribute: [tensorAttr('value', intTensor('', scalar ? [] : [ints.length], ints))] });
    return out;
  };

  g.input.push(valueInfo('input', options.batchFirst ? ['batch', 'seq_len', I] : ['seq_len', 'batch', I]));
  let x = 'input';
  if (options.batchFirst) {
    g.node.push({ op_type: 'Transpose', name: '/gru/Transpose', input: ['input'], output: ['/gru/Transpose_output_0'], attribute: [intsAttr('perm', [1, 0, 2])] });
    x = '/gru/Transpose_output_0';
  }
  let h0 = 'h0';
  if (h0Kind === 'input') {
    g.input.push(valueInfo('h0', [L, 'batch', H]));
  } else if (h0Kind === 'folded') {
    h0 = '/gru/Constant_h0';
    g.initializer.push(floatTensor(h0, [L, 4, H], new Float32Array(L * 4 * H)));
  } else {
    g.node.push({ op_type: 'Shape', name: '/gru/Shape', input: ['input'], output: ['/gru/Shape_output_0'] });
    const idx = constant([options.batchFirst ? 0 : 1], true);
    g.node.push({ op_type: 'Gather', name: '/gru/Gather', input: ['/gru/Shape_output_0', idx], output: ['/gru/Gather_output_0'], attribute: [intAttr('axis', 0)] });
    g.node.push({ op_type: 'Unsqueeze', name: '/gru/Unsqueeze', input: ['/gru/Gather_output_0', constant([0])], output: ['/gru/Unsqueeze_output_0'] });
    g.node.push({ op_type: 'Concat', name: '/gru/Concat_shape', input: [constant([L]), '/gru/Unsqueeze_output_0', constant([H])], output: ['/gru/Concat_shape_output_0'], attribute: [intAttr('axis', 0)] });
    g.node.push({ op_type: 'ConstantOfShape', name: '/gru/ConstantOfShape', input: ['/gru/Concat_shape_output_0'], output: ['/gru/ConstantOfShape_output_0'], attribute: [tensorAttr('value', floatTensor('', [1], [0]))] });
    h0 = '/gru/ConstantOfShape_output_0';
  }

  const hn: string[] = [];
  for (let l = 0; l < L; l++) {
    const inSize = l === 0 ? I : H;
    const [w, r, b] = [`onnx::GRU_${3 * l}`, `onnx::GRU_${3 * l + 1}`, `onnx::GRU_${3 * l + 2}`];
    g.initializer.push(floatTensor(w, [1, 3 * H, inSize], toOnnxGates(t(`gru.weight_ih_l${l}`), H, inSize)));
    g.initializer.push(floatTensor(r, [1, 3 * H, H], toOnnxGates(t(`gru.weight_hh_l${l}`), H, H)));
    const bias = new Float32Array(6 * H);
    bias.set(toOnnxGates(t(`gru.bias_ih_l${l}`), H, 1), 0);
    bias.set(toOnnxGates(t(`gru.bias_hh_l${l}`), H, 1), 3 * H);
    g.initializer.push(floatTensor(b, [1, 6 * H], bias));
    let init = h0;
    if (L > 1 || h0Kind !== 'input') {
      init = `/gru/Slice_${l}_output_0`;
      g.node.push({ op_type: 'Slice', name: `/gru/Slice_${l}`, input: [h0, constant([l]), constant([l + 1]), constant([0])], output: [init] });
    }
    const y = `/gru/GRU_${l}_output_0`;
    const yh = `/gru/GRU_${l}_output_1`;
    g.node.push({ op_type: 'GRU', name: `/gru/GRU_${l}`, input: [x, w, r, b, '', init], output: [y, yh], attribute: [intAttr('hidden_size', H), intAttr('linear_before_reset', 1)] });
    x = `/gru/Squeeze_${l}_output_0`;
    g.node.push({ op_type: 'Squeeze', name: `/gru/Squeeze_${l}`, input: [y, constant([1])], output: [x] });
    hn.push(yh);
  }
  if (options.batchFirst) {
    g.node.push({ op_type: 'Transpose', name: '/gru/Transpose_1', input: [x], output: ['/gru/Transpose_1_output_0'], attribute: [intsAttr('perm', [1, 0, 2])] });
    x = '/gru/Transpose_1_output_0';
  }
  g.node.push({ op_type: 'Concat', name: '/gru/Concat', input: hn, output: ['h_n'], attribute: [intAttr('axis', 0)] });

  if (headKind === 'none') {
    g.node.push({ op_type: 'Identity', name: '/Identity', input: [x], output: ['output'] });
    g.output.push(valueInfo('output', ['seq_len', 'batch', H]));
  } else if (headKind === 'matmul') {
    const wt = new Float32Array(H * O);
    for (let o = 0; o < O; o++) for (let k = 0; k < H; k++) wt[k * O + o] = t('head.weight')[o * H + k];
    g.initializer.push(floatTensor('onnx::MatMul_head', [H, O], wt), floatTensor('head.bias', [O], t('head.bias')));
    g.node.push({ op_type: 'MatMul', name: '/head/MatMul', input: [x, 'onnx::MatMul_head'], output: ['/head/MatMul_output_0'] });
    g.node.push({ op_type: 'Add', name: '/head/Add', input: ['head.bias', '/head/MatMul_output_0'], output: ['forecast'] });
    g.output.push(valueInfo('forecast', ['seq_len', 'batch', O]));
  } else {
    const transB = headKind === 'gemm';
    const w = t('head.weight');
    const stored = transB ? w : Float32Array.from({ length: H * O }, (_, i) => w[(i % O) * H + Math.floor(i / O)]);
    g.initializer.push(floatTensor('head.weight', transB ? [O, H] : [H, O], stored), floatTensor('head.bias', [O], t('head.bias')));
    g.node.push({ op_type: 'Gather', name: '/Gather', input: [x, constant([-1], true)], output: ['/Gather_output_0'], attribute: [intAttr('axis', options.batchFirst ? 1 : 0)] });
    g.node.push({ op_type: 'Gemm', name: '/head/Gemm', input: ['/Gather_output_0', 'head.weight', 'head.bias'], output: ['forecast'], attribute: [{ name: 'alpha', type: 1, f: 1 }, { name: 'beta', type: 1, f: 1 }, intAttr('transB', transB ? 1 : 0)] });
    g.output.push(valueInfo('forecast', ['batch', O]));
  }
  g.output.push(valueInfo('h_n', [L, 'batch', H]));
  options.edit?.(g);
  return encodeModel(g, options.metadata ?? {});
}

export function encodeModel(graph: GraphObject, metadata: Record<string, string>): Uint8Array {
  const type = onnxSchema().lookupType('onnx.ModelProto');
  const message = type.fromObject({
    ir_version: 7,
    producer_name: 'pytorch',
    producer_version: '1.13.0',
    opset_import: [{ domain: '', version: 14 }],
    graph,
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return type.encode(message).finish();
}

/** Decode, edit as a plain object, encode again: the fuzz mutators' way into the structure. */
export function editModel(bytes: Uint8Array, edit: (model: Record<string, any>) => void): Uint8Array {
  const type = onnxSchema().lookupType('onnx.ModelProto');
  const object = type.toObject(type.decode(bytes), { longs: Number, defaults: false });
  edit(object);
  return type.encode(type.fromObject(object)).finish();
}
