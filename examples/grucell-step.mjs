// The tutorial's nn.GRUCell snippet ("基于PyTorch的GURcell") with gru-stream: one step per call,
// PyTorch variant, input 3, hidden 2, seq_len 2, weights drawn like PyTorch's default init
// (uniform in +-1/sqrt(hidden)).
//
// One fix: the tutorial calls gru_cell(x) without a hidden state, so PyTorch starts every call
// from zeros and the second step does not see the first. Here each call is given the previous
// state, as nn.GRUCell(x, hx) would be.
//
// Run: npm run build && node examples/grucell-step.mjs
import { modelFromBytes, writeSafetensors } from 'gru-stream';

let seed = 7;
const uniform = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const randn = (n) => Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));

const inputSize = 3;
const hiddenSize = 2;
const seqLen = 2;

const k = 1 / Math.sqrt(hiddenSize);
const init = (...shape) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => (2 * uniform() - 1) * k) });
// GRUCell's weight_ih, weight_hh, bias_ih, bias_hh, stored under nn.GRU's layer-0 names.
const tensors = {
  'gru.weight_ih_l0': init(3 * hiddenSize, inputSize),
  'gru.weight_hh_l0': init(3 * hiddenSize, hiddenSize),
  'gru.bias_ih_l0': init(3 * hiddenSize),
  'gru.bias_hh_l0': init(3 * hiddenSize),
};
const metadata = { format: 'gru-forecaster', variant: 'pytorch', module: 'GRUCell', input_size: '3', hidden_size: '2', num_layers: '1' };
const model = modelFromBytes(writeSafetensors(tensors, metadata));

/** One GRUCell step for one sample: x [input], hx [hidden] or null (zeros) -> h' [hidden]. */
function grucell(x, hx) {
  return model.forward([[x]], hx === null ? null : [[hx]]).hN[0][0];
}

const x = Array.from({ length: seqLen }, () => randn(inputSize));
let hx = null;
for (let t = 0; t < seqLen; t++) {
  const out = grucell(x[t], hx);
  hx = out;
  console.log(`tensor([${out.map((v) => v.toFixed(4)).join(', ')}])  shape [${out.length}]`);
}
