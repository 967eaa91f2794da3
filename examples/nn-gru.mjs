// The tutorial's nn.GRU snippet ("基于PyTorch的GRUapi实现") with gru-stream: a whole batch of
// sequences in one call, sequence first like nn.GRU(batch_first=False):
// x [seq_len 4][batch 5][input 3] -> out [4][5][hidden 2], from a zero initial state.
// Weights are drawn like PyTorch's default init (uniform in +-1/sqrt(hidden)).
//
// Run: npm run build && node examples/nn-gru.mjs
import { modelFromBytes, writeSafetensors } from 'gru-stream';
import { draws, torchGruTensors } from './lib/weights.mjs';

const { uniform, randn } = draws(2024);

const inputSize = 3;
const hiddenSize = 2;
const seqLen = 4;
const batchSize = 5;

const tensors = torchGruTensors(uniform, inputSize, hiddenSize);
const metadata = { format: 'gru-forecaster', variant: 'pytorch', module: 'GRU', input_size: '3', hidden_size: '2', num_layers: '1' };
const gru = modelFromBytes(writeSafetensors(tensors, metadata));

const x = Array.from({ length: seqLen }, () => Array.from({ length: batchSize }, () => Array.from({ length: inputSize }, randn)));
const { output: out } = gru.forward(x); // out, _ = gru(x)

for (const [t, step] of out.entries()) {
  console.log(`out[${t}] =`, step.map((h) => `[${h.map((v) => v.toFixed(4)).join(', ')}]`).join(' '));
}
console.log(`shape [${out.length}, ${out[0].length}, ${out[0][0].length}]`);
