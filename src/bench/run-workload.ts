import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OptionError } from '../errors.js';
import { packWeights } from '../model/pack-weights.js';
import type { KernelPreference } from '../kernel/select.js';
import { packageVersion } from '../util/package-root.js';
import { torchGruFromFlat } from './flat-weights.js';
import { BENCH_TOLERANCE, ReferenceCheck } from './reference-check.js';
import { tickStats } from './stats.js';
import { createTickStepper } from './tick-stepper.js';
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
 * The tick loop: tick t feeds inputs[t] to every series (states carried from tick t-1); ticks
 * below warmup_ticks are run but not timed (JIT, caches, worker start-up); the forecasts of every
 * tick run are checked against the reference, outside the timed region.
 */
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
  const views = Array.from({ length: ticks }, (_, t) => data.inputs.subarray(t * S * I, (t + 1) * S * I));
  const out = new Float32Array(S);
  const times = new Float64Array(ticks - spec.warmupTicks);
  const budgetUs = options.budgetS * 1e6;
  let measured = 0;
  let spentUs = 0;
  let t = 0;
  try {
    while (t < ticks && spentUs < budgetUs) {
      const t0 = performance.now();
      const pending = stepper.tick(views[t], out);
      if (pending) await pending;
      const us = (performance.now() - t0) * 1000;
      if (t >= spec.warmupTicks) {
        times[measured++] = us;
        spentUs += us;
      }
      check?.check(t, out);
      t++;
    }
  } finally {
    await stepper.close();
  }
  const stats = tickStats(times.subarray(0, measured));
  const truncated = t < spec.ticks;
  const notes = [
    `kernel=${stepper.kernelName}`,
    stepper.description,
    'series_steps_per_s = series / median timed tick',
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
