import { ErrorCodes, InputError } from '../errors.js';
import { modelFromBytes } from '../model/load-model.js';
import type { GruModel } from '../model/model.js';
import { packageVersion } from '../util/package-root.js';
import { chooseModel } from './auto.js';
import { baselines } from './baselines.js';
import type { CandidateSpec } from './candidate.js';
import { nonPositiveError, splitAndCheck } from './checks.js';
import { type TrainSource, readTrainingData } from './data.js';
import { type Encoded, TRAIN_TRANSFORMS, type TrainTransform, encode } from './encode.js';
import { modelFileBytes } from './model-file.js';
import { type TrainOptions, resolveTrainOptions } from './options.js';
import { epochUnits, makePlan } from './plan.js';
import { type TrainReport, buildReport } from './report.js';
import { createRunner } from './runner.js';

export interface TrainResult {
  /** The trained forecaster, loaded from exactly the bytes below. */
  model: GruModel;
  report: TrainReport;
  /** The safetensors file (write it anywhere; loadModel, predict, serve and PyTorch read it). */
  bytes: Uint8Array;
}

function label(s: CandidateSpec): string {
  return `${s.transform} H${s.hidden} seed ${s.seed}`;
}

/**
 * Train a GRU forecaster on `source` (a CSV/NDJSON path, '-' for stdin, a byte stream, or an iterable
 * of samples `{ series, values | value }`), choosing transform, size and epochs by validation.
 * Rejects with coded errors: ERR_OPTION, ERR_INPUT_IO, ERR_PARSE, ERR_NON_FINITE, ERR_TOO_FEW_ROWS,
 * ERR_CONSTANT_SERIES.
 */
export async function train(source: TrainSource, options: TrainOptions = {}): Promise<TrainResult> {
  const opts = resolveTrainOptions(options);
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const data = await readTrainingData(source, { columns: opts.columns, format: opts.format, ...(opts.dataset ? { seriesName: opts.dataset } : {}) });
  const split = splitAndCheck(data, opts.validationFraction);
  if (opts.transform === 'log_return+zscore') {
    const err = nonPositiveError(data);
    if (err) throw err;
  }
  const encodings = new Map<TrainTransform, Encoded>();
  for (const t of opts.transform === 'auto' ? TRAIN_TRANSFORMS : [opts.transform]) {
    const enc = encode(data, split, t);
    if (enc) encodings.set(t, enc);
  }
  if (encodings.size === 0) {
    throw new InputError(ErrorCodes.ERR_CONSTANT_SERIES, `transform ${opts.transform}: the fit rows' ${opts.transform === 'diff+zscore' ? 'differences' : 'log returns'} never change, so they cannot be scaled; try --transform zscore`, { transform: opts.transform });
  }
  const base = baselines(data, split);
  const plan = makePlan(data, split, opts, base.period, encodings.size);
  const progress = opts.onProgress;
  const totalRows = data.series.reduce((a, s) => a + s.rows, 0);
  progress?.({ type: 'start', rows: totalRows, series: data.series.length, columns: data.columns, runs: plan.runs, timeBudget: opts.timeBudget, period: base.period });

  // Time left: this run's epochs still possible, plus the runs not started, at the pace seen so far.
  const perEpoch = epochUnits(plan, plan.hiddens[0], opts.layers, data.columns.length);
  const starts = new Map<number, number>();
  const best = new Map<number, { epoch: number; score: number }>();
  let secondsPerUnit = 0;
  const runner = createRunner(data, split, base, Math.min(opts.threads, plan.runs), plan.runs, performance.timeOrigin + t0 + opts.timeBudget * 1000, {
    onStart: (run) => starts.set(run, performance.now()),
    onEpoch: (run, spec, r) => {
      const b = best.get(run) ?? { epoch: 0, score: Infinity };
      if (r.valScore < b.score) best.set(run, { epoch: r.epoch, score: r.valScore });
      const bestEpoch = best.get(run)?.epoch ?? 0;
      secondsPerUnit = (performance.now() - starts.get(run)!) / 1000 / (r.epoch * perEpoch);
      const thisRun = Math.min(plan.maxEpochs - r.epoch, plan.patience - (r.epoch - bestEpoch));
      const later = ((plan.runs - starts.size) * plan.maxEpochs * 0.5) / Math.min(opts.threads, plan.runs);
      progress?.({ type: 'epoch', run, runs: plan.runs, label: label(spec), epoch: r.epoch, maxEpochs: plan.maxEpochs, trainLoss: r.trainLoss, valLoss: r.valLoss, valMae: r.valMae, bestEpoch, elapsed: elapsed(), remaining: Math.min((thisRun + later) * perEpoch * secondsPerUnit, opts.timeBudget - elapsed()) });
    },
    onDone: (run, result, seconds) => {
      progress?.({ type: 'run', run, runs: plan.runs, label: label(result.spec), bestEpoch: result.bestEpoch, epochs: result.history.length, valMae: result.validation.mae, valScore: result.valScore, seconds });
    },
  });
  let auto;
  try {
    auto = await chooseModel(data, split, base, encodings, plan, opts, runner.runMany);
  } finally {
    await runner.close();
  }
  const { chosen, trials } = auto;
  const enc = encodings.get(chosen.transform)!;
  const report = buildReport(data, split, plan, base, trials, chosen, elapsed());
  const bytes = modelFileBytes({
    size: chosen.size,
    params: chosen.params,
    columns: data.columns,
    transform: chosen.transform,
    mean: enc.mean,
    std: enc.std,
    dataset: opts.dataset ?? data.series.map((s) => s.id).join(' ').slice(0, 200),
    validation: chosen.validation,
    training: {
      tool: `gru-stream ${packageVersion()} train`,
      seed: opts.seed,
      members: chosen.members.length,
      member_hidden: chosen.hidden,
      member_seeds: chosen.members.map((m) => m.spec.seed),
      best_epochs: chosen.members.map((m) => m.bestEpoch),
      window: plan.window,
      burn_in: plan.burnIn,
      lr: opts.lr,
      weight_decay: opts.weightDecay,
      validation_fraction: opts.validationFraction,
      rows: totalRows,
      validation_mae: chosen.validation.mae,
      persistence_mae: base.persistence,
    },
  });
  progress?.({ type: 'done', elapsed: elapsed() });
  return { model: modelFromBytes(bytes), report, bytes };
}
