#!/usr/bin/env node
/**
 * Does an idle series cost anything? One process per point (so RSS starts clean):
 *   1. give N series ids a slot each (SeriesSlots, the map `predict` uses) in one state arena,
 *   2. step every one of them once, so all N states are real, written pages,
 *   3. time ticks that step a 1,024-series subset, a different stride-spread subset each tick,
 *      looked up by id as predict does.
 * Reports RSS growth per live series and the subset's tick latency (lookup and kernel apart); flat latency and flat bytes
 * per series from 1k to 1M mean the idle ones cost only their memory.
 *
 *   node bench/lib/live-series.mjs N HIDDEN [INPUT]  → one JSON line
 */
import { performance } from 'node:perf_hooks';
import { tickStats } from '../../dist/src/bench/stats.js';
import { arenaLayout, sharedFloats } from '../../dist/src/kernel/layout.js';
import { packWeights } from '../../dist/src/model/pack-weights.js';
import { createKernel } from '../../dist/src/kernel/select.js';
import { SeriesSlots } from '../../dist/src/state/series-slots.js';
import { randomGru, rng } from './synthetic.mjs';

const live = Number(process.argv[2]);
const H = Number(process.argv[3]);
const I = Number(process.argv[4] ?? 8);
const ACTIVE = Math.min(1024, live);
const WARMUP = 20;
const TICKS = 200;

const weights = packWeights(randomGru({ input: I, hidden: H, layers: 1 }, 7));
const inputs = Float32Array.from({ length: ACTIVE * I }, rng(8));
const out = new Float32Array(ACTIVE);
const slotsOf = new Int32Array(ACTIVE);
const ids = Array.from({ length: ACTIVE }, () => '');
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;

const layout = arenaLayout(weights.layout.shape, live, ACTIVE, 1);
const arena = sharedFloats(layout.totalFloats);
const kernel = createKernel({ weights: weights.data, layout: weights.layout, arena, arenaLayout: layout }, ACTIVE);
const slots = new SeriesSlots(live);
for (let s = 0; s < live; s++) slots.add(`series-${s}`);
for (let start = 0; start < live; start += ACTIVE) {
  const count = Math.min(ACTIVE, live - start);
  for (let b = 0; b < count; b++) slotsOf[b] = start + b;
  kernel.step(count, slotsOf, inputs, out);
}
globalThis.gc?.();
const rssAfter = process.memoryUsage().rss;

const stride = Math.max(1, Math.floor(live / ACTIVE));
const times = new Float64Array(TICKS);
const kernelTimes = new Float64Array(TICKS);
for (let t = 0; t < WARMUP + TICKS; t++) {
  const offset = t % stride;
  for (let b = 0; b < ACTIVE; b++) ids[b] = `series-${(offset + b * stride) % live}`;
  const t0 = performance.now();
  for (let b = 0; b < ACTIVE; b++) slotsOf[b] = slots.touch(ids[b]);
  const t1 = performance.now();
  kernel.step(ACTIVE, slotsOf, inputs, out);
  const t2 = performance.now();
  if (t >= WARMUP) {
    times[t - WARMUP] = (t2 - t0) * 1000;
    kernelTimes[t - WARMUP] = (t2 - t1) * 1000;
  }
}
// The same ticks through series handles (predictor.handle()): a handle is the slot plus a generation
// (odd while live: every slot here was taken once, so 1), checked and marked recently used per
// sample (Predictor.slotOfHandle), no id lookup.
const handleTimes = new Float64Array(TICKS);
for (let t = 0; t < WARMUP + TICKS; t++) {
  const offset = t % stride;
  const t0 = performance.now();
  for (let b = 0; b < ACTIVE; b++) {
    const slot = (offset + b * stride) % live;
    if (slots.generationOf(slot) !== 1) throw new Error('stale handle');
    slots.touchSlot(slot);
    slotsOf[b] = slot;
  }
  kernel.step(ACTIVE, slotsOf, inputs, out);
  if (t >= WARMUP) handleTimes[t - WARMUP] = (performance.now() - t0) * 1000;
}
const st = tickStats(times);
const kt = tickStats(kernelTimes);
const ht = tickStats(handleTimes);
process.stdout.write(`${JSON.stringify({
  live_series: live,
  hidden: H,
  input: I,
  active_per_tick: ACTIVE,
  kernel: kernel.name,
  rss_bytes_per_series: Math.round((rssAfter - rssBefore) / live),
  arena_bytes_per_series: layout.slotStride * 4,
  p50_tick_us: Number(st.p50Us.toFixed(2)),
  p99_tick_us: Number(st.p99Us.toFixed(2)),
  us_per_active_step: Number((st.p50Us / ACTIVE).toFixed(4)),
  // The split shows which part grows with N: the id → slot map, or the kernel's state reads.
  p50_kernel_us: Number(kt.p50Us.toFixed(2)),
  p50_lookup_us: Number((st.p50Us - kt.p50Us).toFixed(2)),
  p50_handle_tick_us: Number(ht.p50Us.toFixed(2)),
})}\n`);
