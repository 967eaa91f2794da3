import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { workerFile } from '../util/worker-file.js';
import type { RunMany } from './auto.js';
import type { Baselines } from './baselines.js';
import type { CandidateResult, CandidateSpec, EpochRecord } from './candidate.js';
import type { TrainingData } from './data.js';
import type { Split } from './encode.js';
import { type RunTask, runTask } from './run-task.js';

export interface RunnerHooks {
  onStart?: (run: number, spec: CandidateSpec) => void;
  onEpoch?: (run: number, spec: CandidateSpec, record: EpochRecord) => void;
  onDone?: (run: number, result: CandidateResult, seconds: number) => void;
}

export interface Runner {
  runMany: RunMany;
  close(): Promise<void>;
}

/**
 * Runs training runs in order on this thread (threads = 1) or side by side on a piscina pool. A run's
 * result depends only on its spec, never on which thread ran it or what ran beside it, so the thread
 * count changes the time taken, not the bytes. The time budget is shared out as deadlines: each run,
 * when it starts, may use its share of what is left, counted in rounds of `threads` runs.
 */
export function createRunner(data: TrainingData, split: Split, base: Baselines, threads: number, totalRuns: number, end: number, hooks: RunnerHooks): Runner {
  let pool: Piscina | null = null;
  let next = 0;
  const now = (): number => performance.timeOrigin + performance.now();
  const task = (spec: CandidateSpec, run: number): RunTask => {
    const rounds = Math.max(1, Math.ceil((totalRuns - run) / threads));
    return { data, split, base, spec, end, rounds };
  };
  const one = async (spec: CandidateSpec, run: number): Promise<CandidateResult> => {
    hooks.onStart?.(run, spec);
    const started = now();
    let result: CandidateResult;
    if (threads === 1) {
      result = runTask(task(spec, run), (r) => hooks.onEpoch?.(run, spec, r));
    } else {
      pool ??= new Piscina({ filename: workerFile('train-worker'), minThreads: 0, maxThreads: threads, concurrentTasksPerWorker: 1 });
      const { port1, port2 } = new MessageChannel();
      // Epoch messages travel on their own port and may trail the task's result: wait for all of
      // them (the result's history says how many) so progress never reports a run's epochs after it.
      let seen = 0;
      let all: () => void = () => undefined;
      const drained = new Promise<void>((resolve) => (all = resolve));
      let expected = Infinity;
      port2.on('message', (r: EpochRecord) => {
        hooks.onEpoch?.(run, spec, r);
        if (++seen >= expected) all();
      });
      try {
        result = await pool.run({ ...task(spec, run), port: port1 }, { transferList: [port1] });
        expected = result.history.length;
        if (seen >= expected) all();
        await drained;
      } finally {
        port2.close();
      }
    }
    hooks.onDone?.(run, result, (now() - started) / 1000);
    return result;
  };
  return {
    runMany: (specs) => Promise.all(specs.map((spec) => one(spec, next++))),
    close: async () => {
      await pool?.destroy();
    },
  };
}
