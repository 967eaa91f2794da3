import { writeFileSync } from 'node:fs';
import { writeSafetensors } from '../../dist/src/model/safetensors.js';

/**
 * `predict` forecasts every input column, so its models need a head with one row per input.
 * The benchmark models have a Linear(H, 1) head; this repeats that row `rows` times (forecast[0] is
 * then the benchmark's forecast, the others copies). The extra rows add 2·H·(rows-1) flops per
 * step, about 1 % of a W2 step.
 */
export function widenHead(gru, rows) {
  const H = gru.shape.hiddenSize;
  const weight = new Float32Array(rows * H);
  const bias = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    weight.set(gru.head.weight, r * H);
    bias[r] = gru.head.bias[0];
  }
  return { ...gru, shape: { ...gru.shape, outputSize: rows }, head: { weight, bias } };
}

/**
 * Save a TorchGru (src/kernel/pack-weights.ts form, from a benchmark weight file) as the
 * safetensors model `gru-stream predict` loads: PyTorch state_dict names, identity transform,
 * so predict's forecasts are the raw head outputs the reference holds.
 */
export function writeModelFile(path, gru) {
  const { inputSize: I, hiddenSize: H, numLayers: L } = gru.shape;
  const tensors = {};
  gru.layers.forEach((layer, l) => {
    const inSize = l === 0 ? I : H;
    tensors[`gru.weight_ih_l${l}`] = { shape: [3 * H, inSize], data: layer.weightIh };
    tensors[`gru.weight_hh_l${l}`] = { shape: [3 * H, H], data: layer.weightHh };
    tensors[`gru.bias_ih_l${l}`] = { shape: [3 * H], data: layer.biasIh };
    tensors[`gru.bias_hh_l${l}`] = { shape: [3 * H], data: layer.biasHh };
  });
  const O = gru.head.bias.length;
  tensors['head.weight'] = { shape: [O, H], data: gru.head.weight };
  tensors['head.bias'] = { shape: [O], data: gru.head.bias };
  const metadata = {
    format: 'gru-forecaster',
    variant: 'pytorch',
    module: 'GRU',
    input_size: String(I),
    hidden_size: String(H),
    num_layers: String(L),
    output_size: String(O),
    transform: 'none',
  };
  writeFileSync(path, writeSafetensors(tensors, metadata));
}
