#!/usr/bin/env node
/**
 * The binary API end to end, in one process: W2's samples as Float32Array rows through
 * predictor.writeBatch(handles, values, out), one call per tick of 1,024 series; forecasts checked
 * against the PyTorch reference afterwards. Warm-up ticks are not timed; before them, 200 ms of
 * throwaway ticks on another predictor let the JIT settle (as the kernel bench does).
 *
 *   node bench/lib/e2e-binary.mjs MODEL INPUTS REF SERIES INPUT TICKS WARMUP → one JSON line
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadModel } from '../../dist/src/model/load-model.js';
import { createPredictor } from '../../dist/src/stream/predictor.js';

const [model, inputsFile, refFile, S, I, ticks, warmup] = process.argv.slice(2).map((a, i) => (i < 3 ? a : Number(a)));
const f32 = (p) => {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const inputs = f32(inputsFile);
const reference = f32(refFile);
// As the kernel bench: 200 ms of throwaway ticks first (another predictor, the same code), so the
// timed run does not measure V8 still optimising writeBatch's row loops.
{
  const warm = createPredictor(await loadModel(model), { capacity: 2 * S + 16, maxBatch: S });
  const wh = Array.from({ length: S }, (_, s) => warm.handle(`s${s}`));
  const until = performance.now() + 200;
  for (let t = 0; performance.now() < until; t = (t + 1) % ticks) await warm.writeBatch(wh, inputs.subarray(t * S * I, (t + 1) * S * I));
  warm.end();
}
const predictor = createPredictor(await loadModel(model), { capacity: 2 * S + 16, maxBatch: S });
const handles = Array.from({ length: S }, (_, s) => predictor.handle(`s${s}`));
const out = new Float32Array(S);
let maxDiff = 0;
let t0 = 0;
for (let t = 0; t < ticks; t++) {
  if (t === warmup) t0 = performance.now();
  await predictor.writeBatch(handles, inputs.subarray(t * S * I, (t + 1) * S * I), out);
}
const seconds = (performance.now() - t0) / 1000;
// Check: replay from scratch on a fresh predictor, comparing every tick (outside the timed region).
const check = createPredictor(await loadModel(model), { capacity: 2 * S + 16, maxBatch: S });
const ids = Array.from({ length: S }, (_, s) => `s${s}`);
for (let t = 0; t < ticks; t++) {
  const f = await check.writeBatch(ids, inputs.subarray(t * S * I, (t + 1) * S * I));
  for (let s = 0; s < S; s++) {
    const d = Math.abs(f[s] - reference[t * S + s]);
    if (d > maxDiff || d !== d) maxDiff = d !== d ? Infinity : d;
  }
}
predictor.end();
check.end();
const samples = (ticks - warmup) * S;
process.stdout.write(`${JSON.stringify({ path: 'predictor.writeBatch(handles, Float32Array)', samples, seconds, samples_per_s: Math.round(samples / seconds), max_abs_diff: maxDiff })}\n`);
