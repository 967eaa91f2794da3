// The tutorial's hand-written numpy GRU cell ("原生代码实现"), run with gru-stream's `seed` variant:
// W_z, W_r, W_h act on [x, h]; r resets h before the product; z weights the new candidate.
// Sizes as in the tutorial: input 3, hidden 2, 4 steps; standard-normal weights, zero biases.
//
// One fix: the tutorial's forward() starts every call from h_prev = zeros, so each step forgets the
// last and the "sequence" is four unrelated one-step runs. Here the state is carried: each call gets
// the previous call's hN as its h0, which is exactly what one whole-sequence call computes.
//
// Run: npm run build && node examples/seed-cell.mjs
import { modelFromBytes, writeSafetensors } from 'gru-stream';

import { draws } from './lib/weights.mjs';

// Seeded standard normals so every run prints the same numbers.
const { randn: normal } = draws(42);
const randn = (n) => Float32Array.from({ length: n }, normal);

const inputSize = 3;
const hiddenSize = 2;
const seqLen = 4;

const tensors = {};
for (const gate of ['z', 'r', 'h']) {
  tensors[`W_${gate}`] = { shape: [hiddenSize, inputSize + hiddenSize], data: randn(hiddenSize * (inputSize + hiddenSize)) };
  tensors[`b_${gate}`] = { shape: [hiddenSize], data: new Float32Array(hiddenSize) };
}
const metadata = { format: 'gru-forecaster', variant: 'seed', module: 'seed', input_size: '3', hidden_size: '2', num_layers: '1' };
// The file never touches the disk: bytes in memory are a complete model file.
const gru = modelFromBytes(writeSafetensors(tensors, metadata));

const x = Array.from({ length: seqLen }, () => Array.from(randn(inputSize)));

const allH = [];
let h = null; // null = zeros, for the first step only
for (let t = 0; t < seqLen; t++) {
  const { output, hN } = gru.forward([[x[t]]], h); // one step, batch of one: [1][1][3]
  h = hN; // carry the state into the next call
  const hT = output[0][0];
  allH.push(hT);
  console.log(`(${hT.length},)`, hT.map((v) => v.toFixed(6)).join(' '));
}
console.log(`(${allH.length}, ${allH[0].length})`);

const whole = gru.forward(x.map((xt) => [xt])).output.map((step) => step[0]);
console.log('stepwise equals one whole-sequence call:', JSON.stringify(whole) === JSON.stringify(allH));
