import type { TorchGru, TorchLayer } from '../model/torch-gru.js';

/**
 * The benchmark weight files (gen/Wn.weights.f32) are PyTorch's parameters concatenated in
 * state_dict order: for each layer l, weight_ih_l [3H][in_l], weight_hh_l [3H][H], bias_ih_l [3H],
 * bias_hh_l [3H] (gate rows r, z, n), then head.weight [1][H], head.bias [1].
 * That is already the TorchGru form, so this file only slices; no value is touched.
 */

export interface FlatGruSizes {
  input: number;
  hidden: number;
  layers: number;
}

export function flatWeightCount({ input, hidden: H, layers }: FlatGruSizes): number {
  let n = 0;
  for (let l = 0; l < layers; l++) n += 3 * H * (l === 0 ? input : H) + 3 * H * H + 6 * H;
  return n + H + 1;
}

/** Slice a flat weight file into a PyTorch-form GRU: reset-after (PyTorch's formula), Linear(H, 1) head. */
export function torchGruFromFlat(sizes: FlatGruSizes, flat: Float32Array): TorchGru {
  const H = sizes.hidden;
  let at = 0;
  const take = (n: number): Float32Array => flat.subarray(at, (at += n));
  const layers: TorchLayer[] = [];
  for (let l = 0; l < sizes.layers; l++) {
    const inSize = l === 0 ? sizes.input : H;
    layers.push({ weightIh: take(3 * H * inSize), weightHh: take(3 * H * H), biasIh: take(3 * H), biasHh: take(3 * H) });
  }
  const head = { weight: take(H), bias: take(1) };
  return {
    shape: { inputSize: sizes.input, hiddenSize: H, numLayers: sizes.layers, outputSize: 1, resetAfter: true },
    layers,
    head,
  };
}
