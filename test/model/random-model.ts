import type { Tensor } from '../../src/model/safetensors.js';
import { normalFrom, seededRandom } from '../../src/util/seeded-random.js';

/**
 * Seeded random GRU models for tests: tensors named and shaped exactly as the fixtures README
 * describes, plus the metadata a real file carries. Every draw comes from `rng`, so a failing case
 * is reproduced by its seed alone.
 */

export { seededRandom };

export function uniform(rng: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** Standard normal by Box-Muller, rounded to float32 like every value the model will see. */
export function normal(rng: () => number): number {
  return Math.fround(normalFrom(rng));
}

export interface Sizes {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** 0 = no head. */
  outputSize: number;
}

export interface RandomModel {
  sizes: Sizes;
  variant: 'pytorch' | 'seed';
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Weights uniform in [-scale/sqrt(H), scale/sqrt(H)]: scale 1 is PyTorch's own initialisation;
 * tests use a larger scale too so that gates saturate and rounding near 0/1 is exercised.
 */
function tensor(rng: () => number, shape: number[], bound: number): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = uniform(rng, -bound, bound);
  return { shape, data };
}

function metadataFor(sizes: Sizes, variant: 'pytorch' | 'seed'): Record<string, string> {
  const meta: Record<string, string> = {
    format: 'gru-forecaster',
    input_size: String(sizes.inputSize),
    hidden_size: String(sizes.hiddenSize),
    num_layers: String(sizes.numLayers),
    variant,
    module: variant === 'seed' ? 'seed' : 'GRU',
  };
  if (sizes.outputSize > 0) meta.output_size = String(sizes.outputSize);
  return meta;
}

export function randomModel(variant: 'pytorch' | 'seed', sizes: Sizes, seed: number, scale = 1): RandomModel {
  const rng = seededRandom(seed);
  const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = sizes;
  const bound = scale / Math.sqrt(H);
  const tensors: Record<string, Tensor> = {};
  for (let l = 0; l < L; l++) {
    const inSize = l === 0 ? I : H;
    if (variant === 'pytorch') {
      tensors[`gru.weight_ih_l${l}`] = tensor(rng, [3 * H, inSize], bound);
      tensors[`gru.weight_hh_l${l}`] = tensor(rng, [3 * H, H], bound);
      tensors[`gru.bias_ih_l${l}`] = tensor(rng, [3 * H], bound);
      tensors[`gru.bias_hh_l${l}`] = tensor(rng, [3 * H], bound);
    } else {
      // Single-layer seed files use bare names, multi-layer ones an `l{k}.` prefix (README).
      const p = L === 1 ? '' : `l${l}.`;
      for (const g of ['z', 'r', 'h']) tensors[`${p}W_${g}`] = tensor(rng, [H, inSize + H], bound);
      for (const g of ['z', 'r', 'h']) tensors[`${p}b_${g}`] = tensor(rng, [H], bound);
    }
  }
  if (O > 0) {
    tensors['head.weight'] = tensor(rng, [O, H], bound);
    tensors['head.bias'] = tensor(rng, [O], bound);
  }
  return { sizes, variant, tensors, metadata: metadataFor(sizes, variant) };
}

/** [T][B][width] standard-normal values (already float32-exact). */
export function randomSequence(seed: number, T: number, B: number, width: number): number[][][] {
  const rng = seededRandom(seed);
  return Array.from({ length: T }, () => Array.from({ length: B }, () => Array.from({ length: width }, () => normal(rng))));
}

/** [L][B][H] uniform in [-1, 1], float32-exact, like the fixtures' h0. */
export function randomState(seed: number, L: number, B: number, H: number): number[][][] {
  const rng = seededRandom(seed);
  return Array.from({ length: L }, () => Array.from({ length: B }, () => Array.from({ length: H }, () => Math.fround(uniform(rng, -1, 1)))));
}
