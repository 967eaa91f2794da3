import type { Trial } from './auto.js';
import type { Baselines } from './baselines.js';
import type { EpochRecord } from './candidate.js';
import type { TrainingData } from './data.js';
import type { Split } from './encode.js';
import type { Plan } from './plan.js';

/** One training run in the report: its configuration, its whole history and where it stopped. */
export interface RunReport {
  stage: Trial['stage'];
  transform: string;
  hidden: number;
  seed: number;
  bestEpoch: number;
  epochs: number;
  stopped: string;
  valMae: number[];
  history: EpochRecord[];
}

/** What `train()` returns beside the model, and what `--report FILE.json` writes. */
export interface TrainReport {
  columns: string[];
  series: Array<{ id: string; rows: number; fitRows: number; validationRows: number }>;
  plan: Plan;
  baselines: Baselines;
  /** Each transform and size compared, by the validation MAE of its members' average. */
  trials: Array<{ stage: Trial['stage']; transform: string; hidden: number; members: number; valMae: number[]; valScore: number }>;
  runs: RunReport[];
  chosen: {
    transform: string;
    memberHidden: number;
    members: number;
    /** Hidden size of the shipped file (members × member size). */
    hiddenSize: number;
    layers: number;
    bestEpochs: number[];
    valMae: number[];
    /** valMae / persistence MAE, averaged over columns (below 1 beats persistence). */
    valScore: number;
  };
  /** Per series: the validation rows (from fitRows - 1, the last fit row, on) and the shipped model's forecasts of them. */
  validation: Array<{ series: string; firstRow: number; actual: number[][]; forecast: number[][] }>;
  seconds: number;
  /** True when the wall clock cut a run short (then the same seed may not give the same bytes). */
  deadlineHit: boolean;
}

export function buildReport(data: TrainingData, split: Split, plan: Plan, base: Baselines, trials: Trial[], chosen: Trial, seconds: number): TrainReport {
  const runs = new Map<string, RunReport>();
  for (const t of trials) {
    for (const m of t.members) {
      const key = `${m.spec.transform}/${m.spec.hidden}/${m.spec.seed}`;
      if (!runs.has(key)) runs.set(key, { stage: t.stage, transform: m.spec.transform, hidden: m.spec.hidden, seed: m.spec.seed, bestEpoch: m.bestEpoch, epochs: m.history.length, stopped: m.stopped, valMae: m.validation.mae, history: m.history });
    }
  }
  return {
    columns: data.columns,
    series: data.series.map((s, i) => ({ id: s.id, rows: s.rows, fitRows: split[i], validationRows: s.rows - split[i] })),
    plan,
    baselines: base,
    trials: trials.map((t) => ({ stage: t.stage, transform: t.transform, hidden: t.hidden, members: t.members.length, valMae: t.validation.mae, valScore: t.valScore })),
    runs: [...runs.values()],
    chosen: {
      transform: chosen.transform,
      memberHidden: chosen.hidden,
      members: chosen.members.length,
      hiddenSize: chosen.size.hiddenSize,
      layers: chosen.size.numLayers,
      bestEpochs: chosen.members.map((m) => m.bestEpoch),
      valMae: chosen.validation.mae,
      valScore: chosen.valScore,
    },
    validation: data.series.map((s, i) => ({
      series: s.id,
      firstRow: split[i] - 1,
      actual: Array.from({ length: s.rows - split[i] + 1 }, (_, k) => Array.from(s.values.subarray((split[i] - 1 + k) * data.columns.length, (split[i] + k) * data.columns.length))),
      forecast: chosen.validation.forecasts[i],
    })),
    seconds,
    deadlineHit: [...runs.values()].some((r) => r.stopped === 'deadline'),
  };
}
