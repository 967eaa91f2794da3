import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BENCH_DEFAULTS, runWorkload } from '../bench/run-workload.js';
import { loadWorkloadData, loadWorkloadSpecs } from '../bench/workloads.js';
import { checkKernelPreference, defaultKernelPreference } from '../kernel/select.js';
import { flagErrors, intFlag, numberFlag, parseCommandArgs, usageError } from './args.js';
import type { CliCommand } from './command.js';

/** runWorkload's options and the flags that set them. */
const BENCH_FLAGS = { threads: 'threads', budgetS: 'budget-s', maxTicks: 'max-ticks' };

/** Where the shared benchmark set sits when the repo is checked out beside ../shared. */
const DEFAULT_WORKLOADS = '../shared/bench/workloads.json';

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'time the kernel on the streaming workloads and check its forecasts',
  help: `Usage: gru-stream bench [--workloads FILE] [--workload ID[,ID...]] [--threads N]
                        [--budget-s S] [--kernel auto|js|native] [--max-ticks N]

For each workload in FILE (schema gru-streaming-workloads/1; data paths relative to FILE), load
the weights, then run ticks 0..T-1: every tick advances all of the workload's series one step with
their hidden states carried. The first warmup_ticks ticks are not timed. The run stops early once
S seconds of timed ticks are spent ("truncated": true). The forecasts of every tick run are
compared with the workload's reference; a difference above 1e-5 exits 1 with ERR_BENCH_MISMATCH.

Prints one JSON object per workload on its own line: peer, version, workload, threads, series,
ticks_total, warmup_ticks, ticks_measured, truncated, series_steps_per_s (series / median timed
tick), p50_tick_us, p99_tick_us, mean_tick_us, final_tick, notes (kernel used, threading, check),
final_forecasts (the series' forecasts at final_tick, the last tick run).

Options:
  --workloads FILE   workloads.json (default: ${DEFAULT_WORKLOADS} relative to the current
                     directory, when it exists)
  --workload IDS     run only these workloads (comma-separated ids, e.g. W2)
  --threads N        compute threads in total: 1 = the main thread alone; N > 1 = the main thread
                     plus N-1 pool workers on shared memory (default ${BENCH_DEFAULTS.threads})
  --budget-s S       timed seconds per workload before stopping early (default ${BENCH_DEFAULTS.budgetS})
  --kernel K         auto (default; GRU_STREAM_KERNEL overrides), js or native
  --max-ticks N      run at most N ticks of each workload (must exceed its warm-up)`,
  async run(argv, io) {
    const { values } = parseCommandArgs('bench', argv, {
      workloads: { type: 'string' },
      workload: { type: 'string' },
      threads: { type: 'string' },
      'budget-s': { type: 'string' },
      kernel: { type: 'string' },
      'max-ticks': { type: 'string' },
    });
    const threads = intFlag('threads', values.threads as string | undefined);
    const budgetS = numberFlag('budget-s', values['budget-s'] as string | undefined);
    const maxTicks = intFlag('max-ticks', values['max-ticks'] as string | undefined);
    let kernel;
    try {
      kernel = values.kernel === undefined ? defaultKernelPreference() : checkKernelPreference(values.kernel, '--kernel');
    } catch (err) {
      throw usageError((err as Error).message);
    }
    let file = values.workloads as string | undefined;
    if (file === undefined) {
      if (!existsSync(resolve(DEFAULT_WORKLOADS))) throw usageError(`gru-stream bench: no --workloads FILE given and ${DEFAULT_WORKLOADS} does not exist here`);
      file = resolve(DEFAULT_WORKLOADS);
    }
    let specs = loadWorkloadSpecs(file);
    if (values.workload !== undefined) {
      const wanted = (values.workload as string).split(',').map((s) => s.trim());
      const unknown = wanted.filter((id) => !specs.some((s) => s.id === id));
      if (unknown.length > 0) throw usageError(`--workload: ${unknown.join(', ')} not in ${file} (has ${specs.map((s) => s.id).join(', ')})`);
      specs = specs.filter((s) => wanted.includes(s.id));
    }
    // One workload at a time, data loaded just before it runs: the next one's files do not sit in
    // memory (or the cache) while this one is timed.
    for (const spec of specs) {
      const result = await flagErrors(BENCH_FLAGS, () => runWorkload(loadWorkloadData(spec), { threads, budgetS, kernel, maxTicks }));
      io.stdout.write(`${JSON.stringify(result)}\n`);
    }
    return 0;
  },
};
