// Shared by the tutorial examples: seeded draws (so every run prints the same numbers) and
// PyTorch's default GRU initialisation, uniform in +-1/sqrt(hidden).
import { normalFrom, seededRandom } from 'gru-stream';

export function draws(seed) {
  const uniform = seededRandom(seed);
  return { uniform, randn: () => normalFrom(uniform) };
}

/** A tensor of the given shape filled like nn.GRU's reset_parameters(). */
export function torchInit(uniform, hiddenSize, ...shape) {
  const k = 1 / Math.sqrt(hiddenSize);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => (2 * uniform() - 1) * k) };
}

/** nn.GRU / nn.GRUCell layer-0 tensors under their state_dict names. */
export function torchGruTensors(uniform, inputSize, hiddenSize) {
  return {
    'gru.weight_ih_l0': torchInit(uniform, hiddenSize, 3 * hiddenSize, inputSize),
    'gru.weight_hh_l0': torchInit(uniform, hiddenSize, 3 * hiddenSize, hiddenSize),
    'gru.bias_ih_l0': torchInit(uniform, hiddenSize, 3 * hiddenSize),
    'gru.bias_hh_l0': torchInit(uniform, hiddenSize, 3 * hiddenSize),
  };
}
