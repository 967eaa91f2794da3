import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OptionError } from '../errors.js';
import { packWeights } from '../model/pack-weights.js';
import type { KernelPreference } from '../kernel/select.js';
import { nativeIsa } from '../kernel/native-kernel.js';
import { packageVersion } from '../util/package-root.js';
import { torchGruFromFlat } from './flat-weights.js';
import { BENCH_TOLERANCE, ReferenceCheck } from './reference-check.js';
import { tickStats } from './stats.js';
import { type TickStepper, createTickStepper } from './tick-stepper.js';
import type { WorkloadData } from './workloads.js';

/** One line of `gru-stream bench` output. Field names are shared with the peers in bench/ (snake_case, as in workloads.json). */
export interface BenchResult {
  peer: 'gru-stream';
  version: string;
  workload: string;
  threads: number;
  series: number;
  ticks_total: number;
  warmup_ticks: number;
  ticks_measured: number;
  truncated: boolean;
  series_steps_per_s: number;
  p50_tick_us: number;
  p99_tick_us: number;
  mean_tick_us: number;
  final_tick: number;
  notes: string;
  final_forecasts: number[];
}

export interface RunWorkloadOptions {
  /** Threads stepping the series (1 to 256; default 1). */
  threads?: number;
  /** Stop once this many timed (post-warm-up) seconds have been spent (default 10). */
  budgetS?: number;
  kernel: KernelPreference;
  /** Run at most this many ticks (tests use it to stay quick). */
  maxTicks?: number;
}

/** Defaults of the bench options (the CLI's help text reads them from here). */
export const BENCH_DEFAULTS = Object.freeze({ threads: 1, budgetS: 10 });

function checkBenchOptions(options: RunWorkloadOptions): Required<Omit<RunWorkloadOptions, 'maxTicks'>> & { maxTicks: number | undefined } {
  const { threads = BENCH_DEFAULTS.threads, budgetS = BENCH_DEFAULTS.budgetS, maxTicks } = options;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new OptionError(`options.threads must be an integer from 1 to 256 (got ${threads})`, { option: 'threads' });
  if (!Number.isFinite(budgetS) || budgetS <= 0) throw new OptionError(`options.budgetS must be a positive number (got ${budgetS})`, { option: 'budgetS' });
  if (maxTicks !== undefined && (!Number.isInteger(maxTicks) || maxTicks < 1)) throw new OptionError(`options.maxTicks must be an integer >= 1 (got ${maxTicks})`, { option: 'maxTicks' });
  return { threads, budgetS, kernel: options.kernel, maxTicks };
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/**
 * Ticks timed together: sub-microsecond ticks (W1) are timed in batches lasting about this long,
 * so the clock's grain and the cost of reading it do not dominate the figure.
 */
const BATCH_TARGET_US = 20;
const MAX_BATCH_TICKS = 1000;
const SMALL_COPY = 64;
/**
 * Wall time of throwaway ticks (the workload's inputs from a zero state) before the run, after which
 * every series starts again from zero: without it W1's 5,000 ticks are over before the JIT has
 * settled on the tick loop. bench/peers/ort-bench.mjs gives onnxruntime-node the same.
 */
const WARM_MS = 200;
const WARM_BATCH = 8;

/**
 * The tick loop: tick t feeds inputs[t] to every series (states carried from tick t-1); ticks
 * below warmup_ticks are run but not timed (JIT, caches, worker start-up); the forecasts of every
 * tick run are checked against the reference, outside the timed region.
 *
 * Every tick's inputs are copied into one input buffer (inside the timed region, as a deployment
 * would fill its buffer), so the kernel sees the same arrays every call and never rebinds them.
 * Timed ticks run in batches of k (k from the warm-up's median tick, so a batch lasts about
 * BATCH_TARGET_US): each tick of a batch is credited the batch's mean, and the percentiles are over
 * those per-tick figures. k = 1 for ticks of 20 µs or more.
 */
/** Tick `from`'s inputs into the one input buffer. A few floats (W1: one) are copied by hand: a subarray view per tick costs more. */
function fill(input: Float32Array, inputs: Float32Array, from: number): void {
  if (input.length <= SMALL_COPY) for (let i = 0; i < input.length; i++) input[i] = inputs[from + i];
  else input.set(inputs.subarray(from, from + input.length));
}

/** Keep tick j's forecasts at outs[j * S ..] for the check after the batch (a few floats by hand, as fill). */
function keep(outs: Float32Array, out: Float32Array, j: number): void {
  const at = j * out.length;
  if (out.length <= SMALL_COPY) for (let i = 0; i < out.length; i++) outs[at + i] = out[i];
  else outs.set(out, at);
}

/** Ticks [t, t + k) on a synchronous stepper; with k > 1 each tick's forecasts are kept in outs. */
function runBatch(stepper: TickStepper, inputs: Float32Array, t: number, k: number, input: Float32Array, out: Float32Array, outs: Float32Array): void {
  for (let j = 0; j < k; j++) {
    fill(input, inputs, (t + j) * input.length);
    stepper.tick(input, out);
    if (k > 1) keep(outs, out, j);
  }
}

export async function runWorkload(data: WorkloadData, runOptions: RunWorkloadOptions): Promise<BenchResult> {
  const options = checkBenchOptions(runOptions);
  const { spec } = data;
  const S = spec.series;
  const I = spec.input;
  const ticks = Math.min(spec.ticks, options.maxTicks ?? spec.ticks);
  if (ticks <= spec.warmupTicks) {
    throw new OptionError(`options.maxTicks ${options.maxTicks} leaves no timed tick for workload ${spec.id} (warmup_ticks ${spec.warmupTicks})`, { option: 'maxTicks' });
  }
  const weights = packWeights(torchGruFromFlat(spec, data.weights));
  const stepper = await createTickStepper({ weights, series: S, threads: options.threads, kernel: options.kernel });
  const check = data.reference ? new ReferenceCheck(spec.id, data.reference, S) : null;
  const input = new Float32Array(S * I);
  const out = new Float32Array(S);
  const times = new Float64Array(ticks - spec.warmupTicks);
  const budgetUs = options.budgetS * 1e6;
  const warm = new Float64Array(spec.warmupTicks);
  let batch = 1;
  let outs = new Float32Array(S);
  let measured = 0;
  let spentUs = 0;
  let t = 0;
  try {
    // Warm-up in batches, as the timed ticks run: a branch first taken only once the clock runs
    // (keeping a batch's forecasts) would send the optimised loop back to the interpreter then.
    const wb = Math.min(WARM_BATCH, ticks);
    const warmOuts = new Float32Array(wb * S);
    const until = performance.now() + WARM_MS;
    for (let w = 0; performance.now() < until; w = w + 2 * wb <= ticks ? w + wb : 0) {
      if (stepper.sync) runBatch(stepper, data.inputs, w, wb, input, out, warmOuts);
      else {
        fill(input, data.inputs, w * S * I);
        await stepper.tick(input, out);
      }
    }
    stepper.reset();
    while (t < ticks && spentUs < budgetUs) {
      const timed = t >= spec.warmupTicks;
      if (timed && t === spec.warmupTicks && warm.length > 0) {
        const typical = tickStats(warm).p50Us;
        batch = Math.max(1, Math.min(MAX_BATCH_TICKS, Math.ceil(BATCH_TARGET_US / Math.max(typical, 1e-3))));
        outs = new Float32Array(batch * S);
      }
      const k = timed ? Math.min(batch, ticks - t) : 1;
      const t0 = performance.now();
      // A stepper that answers synchronously (one thread) runs the batch in a plain loop: an await in
      // the loop kept this async function's code slow in some processes (W1 ticks of 0.5 or 0.8 µs).
      if (stepper.sync) runBatch(stepper, data.inputs, t, k, input, out, outs);
      else {
        for (let j = 0; j < k; j++) {
          fill(input, data.inputs, (t + j) * S * I);
          await stepper.tick(input, out);
          if (k > 1) keep(outs, out, j);
        }
      }
      const us = ((performance.now() - t0) * 1000) / k;
      if (timed) {
        for (let j = 0; j < k; j++) times[measured++] = us;
        spentUs += us * k;
      } else {
        warm[t] = us;
      }
      for (let j = 0; j < k; j++) check?.check(t + j, k > 1 ? outs.subarray(j * S, (j + 1) * S) : out);
      t += k;
    }
  } finally {
    await stepper.close();
  }
  const stats = tickStats(times.subarray(0, measured));
  const truncated = t < spec.ticks;
  const notes = [
    `kernel=${stepper.kernelName}${stepper.kernelName === 'native' ? ` isa=${nativeIsa()}` : ''}`,
    stepper.description,
    'series_steps_per_s = series / median timed tick',
    batch > 1 ? `ticks timed in batches of ${batch} (each tick credited its batch's mean)` : 'every tick timed alone',
    'one input buffer reused every tick',
    `${WARM_MS} ms of throwaway ticks from a zero state before the run`,
    check
      ? `forecasts of all ${check.ticksChecked} ticks run checked against ${basename(spec.files.reference!)}: max |diff| ${check.maxAbsDiff.toExponential(2)} (tolerance ${BENCH_TOLERANCE})`
      : 'workload has no reference file: forecasts not checked',
    truncated ? (t < ticks ? `stopped after ${options.budgetS} s of timed ticks` : `stopped at --max-ticks ${ticks}`) : 'all ticks run',
  ].join('; ');
  return {
    peer: 'gru-stream',
    version: packageVersion(),
    workload: spec.id,
    threads: options.threads,
    series: S,
    ticks_total: spec.ticks,
    warmup_ticks: spec.warmupTicks,
    ticks_measured: measured,
    truncated,
    series_steps_per_s: Math.round(S / (stats.p50Us / 1e6)),
    p50_tick_us: round(stats.p50Us, 3),
    p99_tick_us: round(stats.p99Us, 3),
    mean_tick_us: round(stats.meanUs, 3),
    final_tick: t - 1,
    notes,
    final_forecasts: Array.from(out),
  };
}
