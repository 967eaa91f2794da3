import { ErrorCodes, ModelError } from '../../errors.js';
import { type OnnxGraph, type OnnxNode, int64 } from './onnx-proto.js';
import { type Value, attribute, constFromTensor, constInts, graphError, intAttribute, stringAttribute, weights } from './onnx-values.js';

/**
 * Reads the graph torch.onnx.export writes for `nn.GRU` (+ `nn.Linear`) into a GRU stack:
 *
 *   input ─► GRU ─► Squeeze(axis 1) ─► GRU ─► Squeeze ─► … ─► [MatMul ─► Add | Gather(-1) ─► Gemm] ─► output
 *   h0 ─► Slice(layer k) ─► GRU k's initial_h          GRU k's Y_h ─► Concat ─► h_n
 *
 * plus the glue the exporter emits around it: Constant, Identity, Unsqueeze, Shape/Gather/Concat/
 * ConstantOfShape/Expand building a zero h0 when forward() had none, Transpose(1,0,2) for
 * batch_first. Weights in ONNX's gate order z, r, h are returned as they are; onnx-model.ts maps them.
 * Every other op, and every wiring that does not compute the stack above, is ERR_MODEL_GRAPH naming
 * the node.
 */

export interface OnnxGruLayer {
  node: string;
  /** [3H][in], [3H][H], [6H] (W biases then R biases), gate blocks z, r, h. */
  w: Float32Array;
  r: Float32Array;
  b: Float32Array | null;
  inSize: number;
  hiddenSize: number;
  linearBeforeReset: boolean;
}

export interface OnnxStack {
  layers: OnnxGruLayer[];
  head: { weight: Float32Array; bias: Float32Array; outputs: number } | null;
}

/** Far above real GRUs, far below a size that could exhaust memory before the weights are checked. */
const MAX_HIDDEN = 1 << 16;
/** ONNX ends a slice "to the end" with a huge int64; any bound past the state's layers means the same. */
const TO_END = 2 ** 31;

export function readOnnxGraph(graph: OnnxGraph): OnnxStack {
  const values = new Map<string, Value>();
  const initializers = new Set<string>();
  for (const t of graph.initializer) {
    values.set(t.name, constFromTensor(t, t.name));
    initializers.add(t.name);
  }
  if (graph.sparse_initializer.length > 0) throw new ModelError(ErrorCodes.ERR_MODEL_GRAPH, 'ONNX sparse initializers are not supported', {});
  const declared = new Map<string, Array<number | null>>();
  for (const i of graph.input) {
    if (initializers.has(i.name)) continue; // IR < 4 lists initializers among the inputs too
    values.set(i.name, { kind: 'input', name: i.name });
    declared.set(i.name, (i.type?.tensor_type?.shape?.dim ?? []).map((d) => (d.dim_value !== undefined && int64(d.dim_value) > 0 ? int64(d.dim_value) : null)));
  }
  const roles = new Map<string, 'sequence' | 'state'>();
  const layers: OnnxGruLayer[] = [];
  const initialStates: Array<{ node: OnnxNode; state: Value | undefined }> = [];

  function claim(node: OnnxNode, input: string, role: 'sequence' | 'state'): void {
    const had = roles.get(input);
    if (had !== undefined && had !== role) throw graphError(node, `uses graph input "${input}" as the ${role}, but it is already the ${had}`);
    roles.set(input, role);
  }

  function asState(node: OnnxNode, v: Value): Value {
    // With a fixed batch size the exporter folds torch's zero h0 into an all-zero initializer.
    if (v.kind === 'const' && v.floats !== null && v.floats.every((x) => x === 0)) return { kind: 'zeros' };
    if (v.kind !== 'input') return v;
    claim(node, v.name, 'state');
    return { kind: 'h0', input: v.name, from: 0, to: declared.get(v.name)?.[0] ?? null };
  }

  function step(node: OnnxNode): Value[] {
    if (node.domain !== '' && node.domain !== 'ai.onnx') throw graphError(node, `operator domain "${node.domain}" is not supported`);
    const ins = node.input.map((name) => {
      if (name === '') return undefined;
      const v = values.get(name);
      if (v === undefined) throw graphError(node, `reads "${name}", which nothing before it produces`);
      return v;
    });
    const [a, b] = ins;
    switch (node.op_type) {
      case 'Constant': {
        const t = attribute(node, 'value')?.t;
        if (t) return [constFromTensor(t, node.output[0] ?? node.name)];
        const ints = attribute(node, 'value_ints')?.ints.map(int64) ?? (attribute(node, 'value_int') ? [intAttribute(node, 'value_int', 0)] : undefined);
        if (ints) return [{ kind: 'const', name: node.name, dims: attribute(node, 'value_int') ? [] : [ints.length], floats: null, ints }];
        const f = attribute(node, 'value_floats')?.floats ?? (attribute(node, 'value_float') ? [attribute(node, 'value_float')!.f] : undefined);
        if (f) return [{ kind: 'const', name: node.name, dims: attribute(node, 'value_float') ? [] : [f.length], floats: Float32Array.from(f), ints: null }];
        throw graphError(node, 'only tensor, int and float constants are supported');
      }
      case 'Identity':
        return [need(node, a)];
      case 'Shape':
        need(node, a);
        return [{ kind: 'shape' }];
      case 'Unsqueeze':
      case 'Cast':
        if (isShapeLike(need(node, a))) return [{ kind: 'shape' }];
        throw graphError(node, 'is only supported on shape integers (building a zero initial state)');
      case 'ConstantOfShape': {
        const t = attribute(node, 'value')?.t;
        if (!isShapeLike(need(node, a)) || (t && constFromTensor(t, node.name).floats?.some((v) => v !== 0))) throw graphError(node, 'is only supported as a zero initial state');
        return [{ kind: 'zeros' }];
      }
      case 'Expand': {
        const x = need(node, a);
        if (x.kind === 'zeros' || (x.kind === 'const' && (x.floats ?? x.ints)!.every((v) => v === 0))) return [{ kind: 'zeros' }];
        throw graphError(node, 'is only supported to broadcast a zero initial state');
      }
      case 'Transpose': {
        const perm = constInts(node, undefined, 'perm');
        let x = need(node, a);
        if (x.kind === 'input') {
          claim(node, x.name, 'sequence');
          x = { kind: 'seq', layers: 0, batchFirst: true };
        }
        if (x.kind === 'seq' && perm?.join() === '1,0,2') return [{ ...x, batchFirst: !x.batchFirst }];
        throw graphError(node, 'is only supported as the batch_first swap (perm 1,0,2) of a sequence');
      }
      case 'Squeeze': {
        const x = need(node, a);
        const axes = constInts(node, b, 'axes');
        if (x.kind === 'gruY' && axes?.length === 1 && (axes[0] === 1 || axes[0] === -3)) return [{ kind: 'seq', layers: x.layer + 1, batchFirst: false }];
        throw graphError(node, 'is only supported removing the direction axis (1) of a GRU output');
      }
      case 'Slice':
        return [slice(node, ins)];
      case 'Gather':
        return [gather(node, need(node, a), need(node, b), intAttribute(node, 'axis', 0))];
      case 'Concat':
        return [concat(node, ins.map((v) => need(node, v)), intAttribute(node, 'axis', 0))];
      case 'GRU':
        return gru(node, ins);
      case 'MatMul':
        return [matmul(node, need(node, a), b)];
      case 'Gemm':
        return [gemm(node, ins)];
      case 'Add':
        return [addBias(node, need(node, a), need(node, b))];
      default:
        throw graphError(node, 'is not part of a GRU export gru-stream can run (supported: GRU, Slice, Squeeze, Unsqueeze, Concat, Gather, Shape, Constant, ConstantOfShape, Expand, Identity, Cast, Transpose, MatMul, Add, Gemm)');
    }
  }

  function slice(node: OnnxNode, ins: Array<Value | undefined>): Value {
    const x = asState(node, need(node, ins[0]));
    if (isShapeLike(x)) return { kind: 'shape' };
    const starts = constInts(node, ins[1], 'starts');
    const ends = constInts(node, ins[2], 'ends');
    const axes = constInts(node, ins[3], 'axes') ?? [0];
    const steps = constInts(node, ins[4]) ?? [1];
    if (starts?.length !== 1 || ends?.length !== 1 || axes.length !== 1 || axes[0] !== 0 || steps.length !== 1 || steps[0] !== 1) {
      throw graphError(node, 'is only supported taking layers [k, k+1) of an initial state (axis 0, step 1)');
    }
    if (x.kind === 'zeros') return x;
    if (x.kind !== 'h0' || starts[0] < 0 || ends[0] <= starts[0]) throw graphError(node, 'is only supported taking layers [k, k+1) of the initial-state input');
    const end = ends[0] >= TO_END ? x.to : x.from + ends[0];
    return { kind: 'h0', input: x.input, from: x.from + starts[0], to: x.to === null ? end : Math.min(end ?? x.to, x.to) };
  }

  function gather(node: OnnxNode, x: Value, index: Value, axis: number): Value {
    if (isShapeLike(x)) return { kind: 'shape' };
    if (index.kind !== 'const' || index.ints?.length !== 1 || index.dims.length !== 0) throw graphError(node, 'is only supported with one constant scalar index');
    const i = index.ints[0];
    if (x.kind === 'seq' && i === -1 && axis === (x.batchFirst ? 1 : 0)) return { kind: 'last', layers: x.layers };
    if (x.kind === 'hn' && axis === 0 && i >= -(x.to - x.from) && i < x.to - x.from) return { kind: 'last', layers: x.from + (i < 0 ? x.to - x.from + i : i) + 1 };
    throw graphError(node, 'is only supported taking the last time step (index -1) of a GRU output or one layer of h_n');
  }

  function concat(node: OnnxNode, parts: Value[], axis: number): Value {
    if (parts.every(isShapeLike)) return { kind: 'shape' };
    if (axis === 0 && parts.every((p) => p.kind === 'hn')) {
      const hn = parts as Array<Extract<Value, { kind: 'hn' }>>;
      if (hn.every((p, i) => i === 0 || p.from === hn[i - 1].to)) return { kind: 'hn', from: hn[0].from, to: hn[hn.length - 1].to };
    }
    throw graphError(node, 'is only supported joining consecutive layers of h_n (axis 0) or shape integers');
  }

  function gru(node: OnnxNode, ins: Array<Value | undefined>): Value[] {
    const k = layers.length;
    let x = need(node, ins[0]);
    if (x.kind === 'input') {
      claim(node, x.name, 'sequence');
      x = { kind: 'seq', layers: 0, batchFirst: false };
    }
    if (x.kind !== 'seq' || x.batchFirst || x.layers !== k) throw graphError(node, k === 0 ? 'must read the graph input (time first)' : `must read the output of GRU layer ${k - 1}`);
    const direction = stringAttribute(node, 'direction') ?? 'forward';
    if (direction !== 'forward') throw graphError(node, `direction "${direction}" is not supported (forward only)`);
    const acts = attribute(node, 'activations')?.strings.map((s) => new TextDecoder().decode(s).toLowerCase());
    if (acts !== undefined && acts.join() !== 'sigmoid,tanh') throw graphError(node, `activations ${acts.join(', ')} are not supported (Sigmoid, Tanh only)`);
    for (const name of ['clip', 'activation_alpha', 'activation_beta']) if (attribute(node, name)) throw graphError(node, `attribute ${name} is not supported`);
    if (intAttribute(node, 'layout', 0) !== 0) throw graphError(node, 'layout 1 is not supported');
    if (ins[4] !== undefined) throw graphError(node, 'sequence_lens is not supported');
    const lbr = intAttribute(node, 'linear_before_reset', 0);
    if (lbr !== 0 && lbr !== 1) throw graphError(node, `linear_before_reset ${lbr} is not 0 or 1`);
    const wDims = ins[1]?.kind === 'const' ? ins[1].dims : [];
    const H = intAttribute(node, 'hidden_size', wDims.length === 3 ? wDims[1] / 3 : -1);
    if (!Number.isSafeInteger(H) || H < 1 || H > MAX_HIDDEN) throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `ONNX node GRU "${node.name}" has hidden_size ${H}, outside [1, ${MAX_HIDDEN}]`, { node: node.name });
    const inSize = wDims.length === 3 ? wDims[2] : -1;
    const layer: OnnxGruLayer = {
      node: node.name,
      w: weights(node, ins[1], 'W', [1, 3 * H, inSize]),
      r: weights(node, ins[2], 'R', [1, 3 * H, H]),
      b: ins[3] === undefined ? null : weights(node, ins[3], 'B', [1, 6 * H]),
      inSize,
      hiddenSize: H,
      linearBeforeReset: lbr === 1,
    };
    layers.push(layer);
    initialStates.push({ node, state: ins[5] === undefined ? undefined : asState(node, ins[5]) });
    return [{ kind: 'gruY', layer: k }, { kind: 'hn', from: k, to: k + 1 }];
  }

  function matmul(node: OnnxNode, x: Value, w: Value | undefined): Value {
    if ((x.kind !== 'seq' && x.kind !== 'last') || x.layers === 0) throw graphError(node, 'is only supported as a linear head over a GRU output');
    const dims = w?.kind === 'const' ? w.dims : [];
    if (dims.length !== 2) throw graphError(node, 'needs a 2-D weight initializer');
    const [H, O] = dims;
    return { kind: 'head', over: x.kind, layers: x.layers, batchFirst: x.kind === 'seq' && x.batchFirst, weight: transpose(weights(node, w, 'head weight', dims), H, O), outputs: O, bias: null };
  }

  function addBias(node: OnnxNode, a: Value, b: Value): Value {
    const [head, bias] = a.kind === 'head' ? [a, b] : [b, a];
    if (head.kind !== 'head' || head.bias !== null || bias.kind !== 'const') throw graphError(node, 'is only supported adding a constant bias to a MatMul head');
    return { ...head, bias: weights(node, bias, 'head bias', biasDims(bias.dims, head.outputs)) };
  }

  function gemm(node: OnnxNode, ins: Array<Value | undefined>): Value {
    const x = need(node, ins[0]);
    if (x.kind !== 'last') throw graphError(node, 'is only supported as a linear head over the last step of a GRU output');
    for (const [name, want] of [['alpha', 1], ['beta', 1]] as const) {
      const attr = attribute(node, name);
      if (attr && attr.f !== want) throw graphError(node, `${name} ${attr.f} is not supported (1 only)`);
    }
    if (intAttribute(node, 'transA', 0) !== 0) throw graphError(node, 'transA is not supported');
    const transB = intAttribute(node, 'transB', 0) === 1;
    const dims = ins[1]?.kind === 'const' ? ins[1].dims : [];
    if (dims.length !== 2) throw graphError(node, 'needs a 2-D weight initializer');
    const O = transB ? dims[0] : dims[1];
    const w = weights(node, ins[1], 'head weight', dims);
    const c = ins[2];
    const bias = c === undefined ? new Float32Array(O) : weights(node, c, 'head bias', biasDims(c.kind === 'const' ? c.dims : [], O));
    return { kind: 'head', over: 'last', layers: x.layers, batchFirst: false, weight: transB ? w : transpose(w, dims[0], O), outputs: O, bias };
  }

  for (const node of graph.node) {
    const outs = step(node);
    node.output.forEach((name, i) => {
      if (name !== '' && outs[i] !== undefined) values.set(name, outs[i]);
    });
  }
  const sequence = [...roles].find(([, role]) => role === 'sequence')?.[0];
  const width = sequence === undefined ? undefined : declared.get(sequence)?.at(-1);
  if (layers.length > 0 && width != null && width !== layers[0].inSize) {
    throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `ONNX input "${sequence}" declares width ${width}, but the first GRU reads ${layers[0].inSize}`, { input: sequence });
  }
  return finish(graph, values, layers, initialStates);
}

function need(node: OnnxNode, v: Value | undefined): Value {
  if (v === undefined) throw graphError(node, 'is missing a required input');
  return v;
}

/** A bias broadcast along the leading axes: [O], [1, O], [1, 1, O]; any other dims are reported against [O]. */
function biasDims(dims: number[], outputs: number): number[] {
  const ok = dims.length >= 1 && dims[dims.length - 1] === outputs && dims.slice(0, -1).every((d) => d === 1);
  return ok ? dims : [outputs];
}

function isShapeLike(v: Value): boolean {
  return v.kind === 'shape' || (v.kind === 'const' && v.ints !== null);
}

/** [rows][cols] -> [cols][rows]. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** Whole-graph checks once every node is read: a chain of layers, their states, one head, the outputs. */
function finish(graph: OnnxGraph, values: Map<string, Value>, layers: OnnxGruLayer[], initialStates: Array<{ node: OnnxNode; state: Value | undefined }>): OnnxStack {
  const L = layers.length;
  if (L === 0) throw new ModelError(ErrorCodes.ERR_MODEL_GRAPH, 'the ONNX graph has no GRU node', {});
  const H = layers[0].hiddenSize;
  layers.forEach((l, k) => {
    if (l.hiddenSize !== H || (k > 0 && l.inSize !== H)) {
      throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `ONNX GRU "${l.node}" is ${l.inSize} -> ${l.hiddenSize}; layers after the first must be ${H} -> ${H}`, { node: l.node });
    }
  });
  initialStates.forEach(({ node, state }, k) => {
    if (state === undefined || state.kind === 'zeros') return;
    const ok = state.kind === 'h0' && state.from === k && (state.to ?? L) === k + 1;
    if (!ok) throw graphError(node, `initial_h must be layer ${k} of the initial-state input (or zeros)`);
  });
  let head: OnnxStack['head'] = null;
  let outputsStack = false;
  for (const o of graph.output) {
    const v = values.get(o.name);
    if (v?.kind === 'seq' || v?.kind === 'last' || v?.kind === 'head') {
      if (v.layers !== L) throw new ModelError(ErrorCodes.ERR_MODEL_GRAPH, `ONNX output "${o.name}" reads GRU layer ${v.layers - 1}, not the last layer ${L - 1}`, { output: o.name });
      outputsStack = true;
    }
    if (v?.kind === 'head') {
      if (head !== null) throw new ModelError(ErrorCodes.ERR_MODEL_GRAPH, `ONNX output "${o.name}" is a second head; gru-stream runs one`, { output: o.name });
      head = { weight: v.weight, bias: v.bias ?? new Float32Array(v.outputs), outputs: v.outputs };
    }
  }
  if (!outputsStack) throw new ModelError(ErrorCodes.ERR_MODEL_GRAPH, 'no ONNX graph output is the GRU stack\'s output or a head over it', {});
  return { layers, head };
}
