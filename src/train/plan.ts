import type { TrainingData } from './data.js';
import type { Split } from './encode.js';
import type { ResolvedTrainOptions } from './options.js';

/**
 * The shape of a training run, fixed before any training starts so that it depends only on the data
 * and the options, never on how fast this machine happens to be today: that is what makes the same
 * seed give the same bytes. The time budget enters through a fixed cost model (COST_PER_UNIT, measured
 * with the native backprop on a busy 2-core x86 machine) that caps the epochs; the wall clock is only a safety net.
 */
export interface Plan {
  window: number;
  burnIn: number;
  /** Windows per Adam step: the option, else 32, or less so that small data gets 8 steps an epoch. */
  batch: number;
  stride: number;
  windowsPerEpoch: number;
  maxEpochs: number;
  patience: number;
  /** Member hidden sizes tried; the first is the one transforms are compared at. */
  hiddens: number[];
  /** Members per trial while choosing transform and size, and in the shipped ensemble. */
  trialMembers: number;
  ensemble: number;
  /** Training runs the plan makes at most (for progress and the budget split). */
  runs: number;
}

/** Seconds per cost unit (one window time step of one hidden unit squared, forward and backward). */
export const COST_PER_UNIT = 6e-9;

const MAX_EPOCHS = 400;

/** Window and burn-in: a few seasons of context where there is a season, capped by the data. */
function windowFor(opts: ResolvedTrainOptions, period: number | null, usable: number): { window: number; burnIn: number } {
  const wanted = opts.window ?? (period !== null ? Math.max(3 * period, 24) : 48);
  const window = Math.max(2, Math.min(wanted, opts.window ?? 128, Math.floor(usable / 2)));
  return { window, burnIn: Math.min(Math.floor(window / 4), period ?? 12) };
}

/** Work units of one epoch of one run of hidden size H. */
export function epochUnits(plan: Pick<Plan, 'window' | 'windowsPerEpoch'>, hidden: number, layers: number, columns: number): number {
  return plan.window * plan.windowsPerEpoch * layers * hidden * (hidden + columns + 2);
}

export function makePlan(data: TrainingData, split: Split, opts: ResolvedTrainOptions, period: number | null, transforms: number): Plan {
  // Inputs of the shortest series usable for windows (the differencing transforms lose one row).
  const usable = Math.min(...split.map((v) => v - 2));
  const { window, burnIn } = windowFor(opts, period, usable);
  const hiddens = opts.hidden !== undefined ? [opts.hidden] : [16, 32];
  const trialMembers = Math.min(2, opts.ensemble);
  const ensemble = opts.ensemble;
  const C = data.columns.length;
  // Every run's hidden size, in plan order: transforms at hiddens[0], the other sizes, then the
  // ensemble's extra members (priced at the largest size, which they may turn out to be).
  const runHiddens = [
    ...Array<number>(transforms * trialMembers).fill(hiddens[0]),
    ...hiddens.slice(1).flatMap((h) => Array<number>(trialMembers).fill(h)),
    ...Array<number>(Math.max(0, ensemble - trialMembers)).fill(Math.max(...hiddens)),
  ];
  const runs = runHiddens.length;
  const totalStarts = split.reduce((acc, v) => acc + Math.max(1, v - 2 - window), 0);
  // Overlapping windows repeat each other; a stride of window/8 keeps every row in ~8 windows.
  const stride = Math.max(1, Math.min(Math.floor(window / 8), Math.floor(totalStarts / 64)));
  let windowsPerEpoch = Math.max(1, Math.ceil(totalStarts / stride));
  const budgetUnits = (0.7 * opts.timeBudget * Math.min(opts.threads, 2)) / COST_PER_UNIT;
  const allRunsEpoch = (w: number): number => runHiddens.reduce((acc, h) => acc + epochUnits({ window, windowsPerEpoch: w }, h, opts.layers, C), 0);
  // Long series: fewer windows per epoch rather than fewer than 30 epochs to stop early in.
  windowsPerEpoch = Math.max(Math.min(windowsPerEpoch, 32), Math.min(windowsPerEpoch, Math.floor(budgetUnits / 30 / allRunsEpoch(1))));
  const maxEpochs = opts.epochs ?? Math.max(5, Math.min(MAX_EPOCHS, Math.floor(budgetUnits / allRunsEpoch(windowsPerEpoch))));
  const patience = Math.max(10, Math.ceil(maxEpochs / 8));
  // Per-epoch cost grows with the windows, not the steps: on small data, smaller batches buy more
  // Adam steps for the same work (measured: air_passengers' validation MAE 13.5 -> 9.7 at batch 32 -> 8).
  const batch = opts.batch ?? Math.min(32, Math.max(4, Math.ceil(windowsPerEpoch / 8)));
  return { window, burnIn, batch, stride, windowsPerEpoch, maxEpochs, patience, hiddens, trialMembers, ensemble, runs };
}
