#!/usr/bin/env node
/**
 * The onnxruntime-node peer: the same tick loop as `gru-stream bench`, on the workload's ONNX model
 * (x [1,S,I], h0 [L,S,H] → y [S,1], hn), hn carried tick to tick. Prints one JSON line per workload
 * with the same fields as gru-stream's, plus max_abs_diff (vs the reference, when there is one)
 * and, with --forecasts-at K, the forecasts at tick K so bench/run.mjs can compare the two peers.
 *
 * Run in its own process (bench/run.mjs spawns it) so ORT's thread pool never shares a process
 * with gru-stream's workers.
 *
 *   node bench/peers/ort-bench.mjs --workloads FILE [--workload IDS] --threads N --budget-s S
 *        [--max-ticks N] [--min-ticks N] [--forecasts-at K] [--onnx PATH]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { tickStats } from '../../dist/src/bench/stats.js';
import { loadWorkloadData, loadWorkloadSpecs } from '../../dist/src/bench/workloads.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const ortVersion = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')).version;

const { values } = parseArgs({
  options: {
    workloads: { type: 'string' },
    workload: { type: 'string' },
    threads: { type: 'string', default: '1' },
    'budget-s': { type: 'string', default: '10' },
    'max-ticks': { type: 'string' },
    'min-ticks': { type: 'string', default: '0' },
    'forecasts-at': { type: 'string' },
    onnx: { type: 'string' },
  },
});
const threads = Number(values.threads);
const budgetUs = Number(values['budget-s']) * 1e6;
const minTicks = Number(values['min-ticks']);
const forecastsAt = values['forecasts-at'] === undefined ? -1 : Number(values['forecasts-at']);
let specs = loadWorkloadSpecs(values.workloads);
if (values.workload) specs = specs.filter((s) => values.workload.split(',').includes(s.id));

const round = (x, d) => Number(x.toFixed(d));

for (const spec of specs) {
  const data = loadWorkloadData(spec);
  const { series: S, input: I, hidden: H, layers: L } = spec;
  const onnx = values.onnx ?? spec.files.onnx;
  // Settings the issue fixes for a fair comparison: intra-op threads = the thread count compared,
  // one inter-op thread, sequential execution; full graph optimisation (ORT's default) left on.
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const ticks = Math.min(spec.ticks, values['max-ticks'] === undefined ? spec.ticks : Number(values['max-ticks']));
  const views = Array.from({ length: ticks }, (_, t) => data.inputs.subarray(t * S * I, (t + 1) * S * I));
  const times = new Float64Array(ticks);
  // As gru-stream's bench: 200 ms of throwaway ticks (the workload's inputs from a zero state) first,
  // so neither peer is timed before its JIT and caches settle; then the run starts from zero again.
  const warmUntil = performance.now() + 200;
  for (let w = 0, hw = new ort.Tensor('float32', new Float32Array(L * S * H), [L, S, H]); performance.now() < warmUntil; w = (w + 1) % ticks) {
    hw = (await session.run({ x: new ort.Tensor('float32', views[w], [1, S, I]), h0: hw })).hn;
  }
  let h = new ort.Tensor('float32', new Float32Array(L * S * H), [L, S, H]);
  let y = null;
  let atK = null;
  let maxDiff = 0;
  let measured = 0;
  let spent = 0;
  let t = 0;
  while (t < ticks && (spent < budgetUs || t < minTicks)) {
    const t0 = performance.now();
    // Timed: what a caller of ORT pays per tick: wrapping the input and the awaited run.
    const x = new ort.Tensor('float32', views[t], [1, S, I]);
    const result = await session.run({ x, h0: h });
    const us = (performance.now() - t0) * 1000;
    h = result.hn;
    y = result.y.data;
    if (t >= spec.warmupTicks) {
      times[measured++] = us;
      spent += us;
    }
    if (data.reference) {
      for (let s = 0; s < S; s++) {
        const d = Math.abs(y[s] - data.reference[t * S + s]);
        if (d > maxDiff || d !== d) maxDiff = d !== d ? Infinity : d;
      }
    }
    if (t === forecastsAt) atK = Array.from(y);
    t++;
  }
  await session.release();
  const stats = tickStats(times.subarray(0, measured));
  const line = {
    peer: 'onnxruntime-node',
    version: ortVersion,
    workload: spec.id,
    threads,
    series: S,
    ticks_total: spec.ticks,
    warmup_ticks: spec.warmupTicks,
    ticks_measured: measured,
    truncated: t < spec.ticks,
    series_steps_per_s: Math.round(S / (stats.p50Us / 1e6)),
    p50_tick_us: round(stats.p50Us, 3),
    p99_tick_us: round(stats.p99Us, 3),
    mean_tick_us: round(stats.meanUs, 3),
    final_tick: t - 1,
    notes: `intraOpNumThreads=${threads}, interOpNumThreads=1, executionMode=sequential, graphOptimizationLevel=all; model ${onnx.split('/').pop()}; timed: new Tensor + await session.run; series_steps_per_s = series / median timed tick; ${data.reference ? `max |diff| vs reference ${maxDiff.toExponential(2)}` : 'no reference'}`,
    max_abs_diff: data.reference ? maxDiff : null,
    final_forecasts: Array.from(y),
    ...(atK ? { forecasts_at: { tick: forecastsAt, values: atK } } : {}),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
