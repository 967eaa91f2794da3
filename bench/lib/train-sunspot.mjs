#!/usr/bin/env node
/**
 * Training time on the `sunspot_gru` configuration of the fixtures README, the recipe PyTorch 1.13
 * ran in 74.45 s on one thread: GRU(1, 32, 1) + Linear(32, 1), z-score of the train rows, sliding
 * windows of 128 steps at stride 2 from the fit rows (the first 80 % of the train rows), batches of
 * 32 shuffled every epoch, MSE from burn-in 16, Adam lr 3e-3 after clip_grad_norm_(1.0), 80 epochs,
 * and after every epoch the validation MSE from streaming the train rows from a zero state.
 *
 * Timed: the whole loop (every epoch's batches and validation), not the data preparation.
 * Prints one JSON line. Run alone: `node bench/lib/train-sunspot.mjs [--epochs 80] [--backprop js|native|auto]`
 * (needs `npm run build` first).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Adam, GruBackprop, clipGradNorm, modelFromParams, paramLayout, seededRandom } from '../../dist/src/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { epochs: { type: 'string' }, backprop: { type: 'string' } } });
const EPOCHS = Number(values.epochs ?? 80);
const [H, WINDOW, STRIDE, BATCH, BURN_IN, LR, CLIP, SEED] = [32, 128, 2, 32, 16, 3e-3, 1.0, 5001];

// Data: the CSV's value column, train rows [0, floor(0.8 N)), fit rows the first 80 % of those.
const lines = readFileSync(join(root, 'test', 'fixtures', 'data', 'sunspot_month.csv'), 'utf8').trim().split('\n');
const column = lines[0].split(',').indexOf('value');
const series = lines.slice(1).map((l) => Number(l.split(',')[column]));
const trainRows = Math.floor(0.8 * series.length);
const fitRows = Math.floor(0.8 * trainRows);
let mean = 0;
for (let i = 0; i < trainRows; i++) mean += series[i];
mean /= trainRows;
let variance = 0;
for (let i = 0; i < trainRows; i++) variance += (series[i] - mean) ** 2;
const std = Math.sqrt(variance / trainRows);
const x = Float32Array.from(series.slice(0, trainRows), (v) => (v - mean) / std);

const starts = [];
for (let s = 0; s + WINDOW + 1 <= fitRows; s += STRIDE) starts.push(s);

// PyTorch's default initialisation: uniform(-1/sqrt(H), 1/sqrt(H)) for every GRU and head tensor.
const layout = paramLayout({ inputSize: 1, hiddenSize: H, numLayers: 1, outputSize: 1, variant: 'pytorch' });
const rng = seededRandom(SEED);
const params = Float32Array.from({ length: layout.totalFloats }, () => (2 * rng() - 1) / Math.sqrt(H));
const metadata = { format: 'gru-forecaster', variant: 'pytorch', columns: 'value', transform: 'zscore', norm_mean: String(mean), norm_std: String(std), horizon: '1' };

const bp = new GruBackprop(layout, WINDOW, BATCH, values.backprop ? { backend: values.backprop } : undefined);
const adam = new Adam(layout.totalFloats, { lr: LR });
const grad = new Float32Array(layout.totalFloats);
const input = new Float32Array(WINDOW * BATCH);
const target = new Float32Array(WINDOW * BATCH);
const order = Int32Array.from(starts.keys());

/** Validation: stream the train rows from a zero state; MSE of the one-step forecasts on the validation rows. */
function validate() {
  const model = modelFromParams(layout, params, metadata, { kernel: 'auto' });
  const { forecast } = model.forward(Array.from(x.subarray(0, trainRows - 1), (v) => [[v]]));
  let sum = 0;
  for (let k = fitRows - 1; k < trainRows - 1; k++) sum += (forecast[k][0][0] - x[k + 1]) ** 2;
  return sum / (trainRows - fitRows);
}

const started = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
let lastLoss = NaN;
let best = { epoch: 0, loss: Infinity };
let batches = 0;
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let sum = 0;
  for (let at = 0; at < order.length; at += BATCH) {
    const rows = Math.min(BATCH, order.length - at);
    for (let b = 0; b < rows; b++) {
      const s = starts[order[at + b]];
      for (let t = 0; t < WINDOW; t++) {
        input[t * rows + b] = x[s + t];
        target[t * rows + b] = x[s + t + 1];
      }
    }
    sum += bp.lossAndGradient(params, input, target, null, BURN_IN, grad, rows) * rows;
    clipGradNorm(grad, CLIP);
    adam.step(params, grad);
    batches++;
  }
  lastLoss = sum / order.length;
  const val = validate();
  if (val < best.loss) best = { epoch, loss: val };
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({ bench: 'train-sunspot', backprop: bp.backend, epochs: EPOCHS, windows: starts.length, batches, seconds, cpu_seconds: cpuSeconds, final_train_loss: lastLoss, best_epoch: best.epoch, best_validation_mse: best.loss, pytorch_seconds_reference: 74.45 }));
