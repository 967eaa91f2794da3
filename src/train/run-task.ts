import type { Baselines } from './baselines.js';
import { type CandidateResult, type CandidateSpec, type EpochRecord, trainCandidate } from './candidate.js';
import { core } from './core.js';
import type { TrainingData } from './data.js';
import { type Split, encode } from './encode.js';

/** One training run as a self-contained, structured-clonable task (for the main thread or a worker). */
export interface RunTask {
  data: TrainingData;
  split: Split;
  base: Baselines;
  spec: CandidateSpec;
  /** Absolute time (performance.timeOrigin + performance.now(), valid across threads) when the whole budget ends. */
  end: number;
  /** Rounds of runs still to go when this one starts, itself included: it may use 1/rounds of what is left. */
  rounds: number;
}

/** Encodes the data for the task's transform (cheap, deterministic) and trains. */
export function runTask(task: RunTask, onEpoch?: (r: EpochRecord) => void): CandidateResult {
  const enc = encode(task.data, task.split, task.spec.transform);
  if (!enc) throw new Error(`transform ${task.spec.transform} is not usable on this data (checked before planning)`);
  return trainCandidate(core, task.data, enc, task.split, task.base, task.spec, {
    deadline: performance.now() + (task.end - performance.timeOrigin - performance.now()) / task.rounds,
    ...(onEpoch ? { onEpoch } : {}),
  });
}
