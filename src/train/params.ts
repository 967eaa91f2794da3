import type { Tensor } from '../model/safetensors.js';
import type { TorchGru } from '../model/torch-gru.js';
import { seededRandom } from '../util/seeded-random.js';

/** The sizes of a GRU(C, H, L) + Linear(H, C) forecaster, the only architecture the trainer makes. */
export interface NetSize {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  outputSize: number;
}

export interface ParamSpec {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/**
 * Every parameter in one flat Float32Array, in PyTorch's state_dict order:
 *   gru.weight_ih_l0 [3H, I] | gru.weight_hh_l0 [3H, H] | gru.bias_ih_l0 [3H] | gru.bias_hh_l0 [3H] | ... l1 ... | head.weight [O, H] | head.bias [O]
 * (row-major, gate rows r, z, n), so a state_dict is a list of subarrays and Adam runs over one buffer.
 */
export function paramSpecs(n: NetSize): ParamSpec[] {
  const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = n;
  const specs: ParamSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]): void => {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, offset, size });
    offset += size;
  };
  for (let l = 0; l < L; l++) {
    add(`gru.weight_ih_l${l}`, [3 * H, l === 0 ? I : H]);
    add(`gru.weight_hh_l${l}`, [3 * H, H]);
    add(`gru.bias_ih_l${l}`, [3 * H]);
    add(`gru.bias_hh_l${l}`, [3 * H]);
  }
  add('head.weight', [O, H]);
  add('head.bias', [O]);
  return specs;
}

export function paramCount(n: NetSize): number {
  const last = paramSpecs(n).at(-1)!;
  return last.offset + last.size;
}

/**
 * PyTorch's default initialisation in distribution (not in bits): nn.GRU draws every tensor from
 * U(-1/sqrt(H), 1/sqrt(H)); nn.Linear(H, O)'s kaiming-uniform weight and its bias have the same bound.
 */
export function initParams(n: NetSize, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  const out = new Float32Array(paramCount(n));
  const bound = 1 / Math.sqrt(n.hiddenSize);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rnd() - 1) * bound;
  return out;
}

/** Named tensors (views into `flat`) for safetensors. */
export function paramTensors(n: NetSize, flat: Float32Array): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const s of paramSpecs(n)) out[s.name] = { shape: s.shape, data: flat.subarray(s.offset, s.offset + s.size) };
  return out;
}

/** The PyTorch-form view the kernels' packer takes (views into `flat`, nothing copied). */
export function paramsToTorchGru(n: NetSize, flat: Float32Array): TorchGru {
  const t = paramTensors(n, flat);
  const layers = Array.from({ length: n.numLayers }, (_, l) => ({
    weightIh: t[`gru.weight_ih_l${l}`].data,
    weightHh: t[`gru.weight_hh_l${l}`].data,
    biasIh: t[`gru.bias_ih_l${l}`].data,
    biasHh: t[`gru.bias_hh_l${l}`].data,
  }));
  return { shape: { ...n, resetAfter: true }, layers, head: { weight: t['head.weight'].data, bias: t['head.bias'].data } };
}
