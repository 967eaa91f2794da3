import { writeFileSync } from 'node:fs';
import { writeSafetensors } from '../../dist/src/model/safetensors.js';

/**
 * Save a TorchGru (src/model/torch-gru.ts form, from a benchmark weight file) as the
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
