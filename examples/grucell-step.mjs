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
import { draws, torchGruTensors } from './lib/weights.mjs';

const { uniform, randn: normal } = draws(7);
const randn = (n) => Array.from({ length: n }, normal);

const inputSize = 3;
const hiddenSize = 2;
const seqLen = 2;

// GRUCell's weight_ih, weight_hh, bias_ih, bias_hh, stored under nn.GRU's layer-0 names.
const tensors = torchGruTensors(uniform, inputSize, hiddenSize);
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
