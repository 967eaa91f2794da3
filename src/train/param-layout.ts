import type { GruShape } from '../kernel/layout.js';
import type { ModelConfig, Variant } from '../model/model-config.js';
import type { GruModel } from '../model/model.js';
import { expectedShapes } from '../model/model-tensors.js';

/**
 * The flat parameter vector training works on: every tensor of the model file, row-major, one after
 * another in canonical state_dict order (src/model/model-tensors.ts expectedShapes):
 *
 *   pytorch: per layer  gru.weight_ih_l{k} [3H][in] | gru.weight_hh_l{k} [3H][H] | gru.bias_ih_l{k} [3H] | gru.bias_hh_l{k} [3H]
 *   seed:    per layer  W_z [H][in+H] | W_r | W_h | b_z [H] | b_r | b_h   (names prefixed l{k}. in multi-layer files)
 *   then     head.weight [O][H] | head.bias [O]   (when the model has a head)
 *
 * Gradients, Adam state and gradient clipping all use this vector, so they act on exactly the
 * parameters PyTorch's optimiser sees (b_ih and b_hh separately, seed tensors as written), never on
 * the kernel's packed form, which sums biases and negates the seed z gate.
 */

export interface ParamTensor {
  name: string;
  shape: number[];
  /** First float of this tensor in the flat vector. */
  offset: number;
  length: number;
}

/** Offsets (into the flat vector) of one layer's tensors, by role. */
export type LayerParams =
  | { variant: 'pytorch'; inSize: number; weightIh: number; weightHh: number; biasIh: number; biasHh: number }
  | { variant: 'seed'; inSize: number; wz: number; wr: number; wh: number; bz: number; br: number; bh: number };

export interface ParamLayout {
  /** The kernel's view of the model: resetAfter for pytorch, reset-before for seed. */
  shape: GruShape;
  variant: Variant;
  tensors: ParamTensor[];
  layers: LayerParams[];
  head: { weight: number; bias: number } | null;
  totalFloats: number;
}

export interface ParamSizes {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** 0 = no head. */
  outputSize: number;
  variant: Variant;
}

/**
 * The layout for these sizes. `seedPrefixed` says whether seed names carry the `l{k}.` prefix
 * (always in multi-layer files; optional with one layer): by default, exactly when numLayers > 1.
 */
export function paramLayout(sizes: ParamSizes, seedPrefixed = sizes.numLayers > 1): ParamLayout {
  const want = expectedShapes(sizes, sizes.variant === 'seed' && seedPrefixed);
  const tensors: ParamTensor[] = [];
  const at = new Map<string, number>();
  let offset = 0;
  for (const [name, shape] of want) {
    const length = shape.reduce((a, b) => a * b, 1);
    tensors.push({ name, shape, offset, length });
    at.set(name, offset);
    offset += length;
  }
  const H = sizes.hiddenSize;
  const layers: LayerParams[] = [];
  for (let l = 0; l < sizes.numLayers; l++) {
    const inSize = l === 0 ? sizes.inputSize : H;
    if (sizes.variant === 'pytorch') {
      const t = (n: string): number => at.get(`gru.${n}_l${l}`)!;
      layers.push({ variant: 'pytorch', inSize, weightIh: t('weight_ih'), weightHh: t('weight_hh'), biasIh: t('bias_ih'), biasHh: t('bias_hh') });
    } else {
      const p = seedPrefixed && sizes.variant === 'seed' ? `l${l}.` : '';
      const t = (n: string): number => at.get(`${p}${n}`)!;
      layers.push({ variant: 'seed', inSize, wz: t('W_z'), wr: t('W_r'), wh: t('W_h'), bz: t('b_z'), br: t('b_r'), bh: t('b_h') });
    }
  }
  const head = sizes.outputSize > 0 ? { weight: at.get('head.weight')!, bias: at.get('head.bias')! } : null;
  const shape: GruShape = { inputSize: sizes.inputSize, hiddenSize: H, numLayers: sizes.numLayers, outputSize: sizes.outputSize, resetAfter: sizes.variant === 'pytorch' };
  return { shape, variant: sizes.variant, tensors, layers, head, totalFloats: offset };
}

/** The layout of a loaded model (its seed tensors prefixed or not, as its file had them). */
export function paramLayoutOf(model: GruModel): ParamLayout {
  const c: ModelConfig = model.config;
  const names = Object.keys(model.stateDict());
  return paramLayout(c, c.variant === 'seed' && names.includes('l0.W_z'));
}

/** A model's parameters as one flat vector in `layout` order (a fresh copy). */
export function flatParams(model: GruModel, layout: ParamLayout = paramLayoutOf(model)): Float32Array {
  const state = model.stateDict();
  const out = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) out.set(state[t.name].values, t.offset);
  return out;
}

/** Split a flat vector (parameters or gradients) into named tensors: fresh copies, row-major. */
export function splitParams(layout: ParamLayout, flat: Float32Array): Record<string, { shape: number[]; values: Float32Array }> {
  const out: Record<string, { shape: number[]; values: Float32Array }> = {};
  for (const t of layout.tensors) out[t.name] = { shape: [...t.shape], values: flat.slice(t.offset, t.offset + t.length) };
  return out;
}
