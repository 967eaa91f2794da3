import { ErrorCodes, ModelError } from '../../errors.js';
import { DataType, type OnnxAttribute, type OnnxNode, type OnnxTensor, floatValues, int64, intValues } from './onnx-proto.js';

/**
 * What the graph reader knows about each value in an exported graph. It never runs the graph:
 * it follows where every value comes from, so that a GRU's initial state can be proven to be
 * "layer k of h0 (or zeros)" and a head's input "the last layer's output", and anything it
 * cannot prove is refused by name.
 */
export type Value =
  /** A graph input whose role (sequence or initial state) its first use decides. */
  | { kind: 'input'; name: string }
  /** An initializer or Constant: weights (floats) or indices/axes (ints). */
  | { kind: 'const'; name: string; dims: number[]; floats: Float32Array | null; ints: number[] | null }
  /** Integers computed from run-time shapes (the batch size): they only ever size a zero state. */
  | { kind: 'shape' }
  /** A zero-filled initial state (what torch builds when forward() is called without h0). */
  | { kind: 'zeros' }
  /** The sequence after `layers` GRU layers: [T][B][F], or [B][T][F] when batchFirst. */
  | { kind: 'seq'; layers: number; batchFirst: boolean }
  /** A GRU node's Y output, [T][1][B][H]. */
  | { kind: 'gruY'; layer: number }
  /** Layers [from, to) of an initial-state input; `to` null while the input's size is unknown. */
  | { kind: 'h0'; input: string; from: number; to: number | null }
  /** Final states of layers [from, to), [to - from][B][H]. */
  | { kind: 'hn'; from: number; to: number }
  /** [B][H]: the last step of seq(layers), which is also the final state of its top layer. */
  | { kind: 'last'; layers: number }
  /** A linear head over seq(layers) or last(layers): weight [O][H], bias [O] once an Add supplies it. */
  | { kind: 'head'; over: 'seq' | 'last'; layers: number; batchFirst: boolean; weight: Float32Array; outputs: number; bias: Float32Array | null };

export type ConstValue = Extract<Value, { kind: 'const' }>;

export function graphError(node: OnnxNode, why: string): ModelError {
  const name = node.name || '(unnamed)';
  return new ModelError(ErrorCodes.ERR_MODEL_GRAPH, `ONNX node ${node.op_type} "${name}": ${why}`, { node: name, op: node.op_type });
}

export function constFromTensor(t: OnnxTensor, name: string): ConstValue {
  if (t.data_type === DataType.INT64 || t.data_type === DataType.INT32) {
    const { dims, data } = intValues(t);
    return { kind: 'const', name, dims, floats: null, ints: data };
  }
  const { dims, data } = floatValues(t);
  return { kind: 'const', name, dims, floats: data, ints: null };
}

export function attribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a === undefined ? fallback : int64(a.i);
}

export function intsAttribute(node: OnnxNode, name: string): number[] | undefined {
  return attribute(node, name)?.ints.map(int64);
}

export function stringAttribute(node: OnnxNode, name: string): string | undefined {
  const a = attribute(node, name);
  return a === undefined ? undefined : new TextDecoder().decode(a.s);
}

/** Integer constants (axes, starts, indices), from an input or, in older opsets, an attribute. */
export function constInts(node: OnnxNode, value: Value | undefined, attr?: string): number[] | undefined {
  if (value === undefined) return attr === undefined ? undefined : intsAttribute(node, attr);
  if (value.kind !== 'const' || value.ints === null) throw graphError(node, 'expects constant integers here (axes, indices or bounds)');
  return value.ints;
}

/** Float weights from a constant, with the dims the caller requires. */
export function weights(node: OnnxNode, value: Value | undefined, role: string, dims: number[]): Float32Array {
  if (value === undefined || value.kind !== 'const' || value.floats === null) throw graphError(node, `${role} must be a float initializer or Constant`);
  if (value.dims.length !== dims.length || value.dims.some((d, i) => d !== dims[i])) {
    throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `ONNX ${role} "${value.name}" of node ${node.op_type} "${node.name}" has dims [${value.dims}], expected [${dims}]`, { tensor: value.name, node: node.name });
  }
  const bad = value.floats.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ModelError(ErrorCodes.ERR_MODEL_VALUES, `ONNX tensor "${value.name}" has a non-finite value (${value.floats[bad]}) at element ${bad}`, { tensor: value.name, index: bad });
  return value.floats;
}
