import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalFrom, seededRandom } from '../../dist/src/util/seeded-random.js';
import { gruOnnxModel } from './onnx-gru.mjs';

/**
 * Random sweep workloads, written in the shared workloads.json schema so `gru-stream bench` and the
 * ORT peer read them like W1–W3. Weights follow PyTorch's default init, uniform(-1/√H, 1/√H);
 * inputs are standard normal (as the shared set's torch.randn). There is no PyTorch here, so no
 * reference file: bench/run.mjs compares the two peers' forecasts with each other instead.
 */

/** Seeded uniform draws (the package's one generator), the same on every machine. */
export const rng = seededRandom;

function uniform(n, k, next) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * next() - 1) * k;
  return a;
}

function normal(n, next) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = normalFrom(next);
  return a;
}

/** A random TorchGru (the src/model/torch-gru.ts form) with a Linear(H, 1) head. */
export function randomGru({ input, hidden: H, layers }, seed) {
  const next = rng(seed);
  const k = 1 / Math.sqrt(H);
  const ls = Array.from({ length: layers }, (_, l) => ({
    weightIh: uniform(3 * H * (l === 0 ? input : H), k, next),
    weightHh: uniform(3 * H * H, k, next),
    biasIh: uniform(3 * H, k, next),
    biasHh: uniform(3 * H, k, next),
  }));
  return {
    shape: { inputSize: input, hiddenSize: H, numLayers: layers, outputSize: 1, resetAfter: true },
    layers: ls,
    head: { weight: uniform(H, k, next), bias: uniform(1, k, next) },
  };
}

/** Flat file order of the shared set: per layer w_ih, w_hh, b_ih, b_hh; then head weight, bias. */
function flatten(gru) {
  const parts = gru.layers.flatMap((l) => [l.weightIh, l.weightHh, l.biasIh, l.biasHh]).concat([gru.head.weight, gru.head.bias]);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Write every point's files under `dir` and one workloads.json listing them.
 * @param points [{ id, input, hidden, layers, series, ticks, warmup_ticks }]
 */
export function writeSweep(dir, points, seed = 20261127) {
  mkdirSync(join(dir, 'gen'), { recursive: true });
  const models = new Map();
  const workloads = points.map((p, i) => {
    const modelKey = `I${p.input}_H${p.hidden}_L${p.layers}`;
    if (!models.has(modelKey)) {
      const gru = randomGru(p, seed + models.size);
      writeFileSync(join(dir, 'gen', `${modelKey}.weights.f32`), flatten(gru));
      writeFileSync(join(dir, 'gen', `${modelKey}.onnx`), gruOnnxModel(gru));
      models.set(modelKey, gru);
    }
    writeFileSync(join(dir, 'gen', `${p.id}.inputs.f32`), normal(p.ticks * p.series * p.input, rng(seed + 1000 + i)));
    return {
      ...p,
      name: `sweep H=${p.hidden} S=${p.series}`,
      files: { weights: `gen/${modelKey}.weights.f32`, inputs: `gen/${p.id}.inputs.f32`, onnx: `gen/${modelKey}.onnx` },
    };
  });
  const file = join(dir, 'workloads.json');
  writeFileSync(file, JSON.stringify({ schema: 'gru-streaming-workloads/1', dtype: 'float32', seed, note: 'random sweep written by bench/lib/synthetic.mjs; no reference', workloads }, null, 1));
  return { file, models };
}
