import type { Baselines } from './baselines.js';
import { type CandidateResult, type CandidateSpec, relativeScore } from './candidate.js';
import type { TrainingData } from './data.js';
import type { Encoded, Split, TrainTransform } from './encode.js';
import { mergeEnsemble } from './ensemble.js';
import { type Validation, validate } from './evaluate.js';
import type { ResolvedTrainOptions } from './options.js';
import type { NetSize } from './params.js';
import type { Plan } from './plan.js';

/** A group of members (same transform and size, different seeds) and their average as one model. */
export interface Trial {
  stage: 'transform' | 'hidden' | 'ensemble';
  transform: TrainTransform;
  hidden: number;
  members: CandidateResult[];
  size: NetSize;
  params: Float32Array;
  validation: Validation;
  valScore: number;
}

/** Runs training runs (in order, or side by side on worker threads), returning results in spec order. */
export type RunMany = (specs: CandidateSpec[]) => Promise<CandidateResult[]>;

export interface AutoResult {
  chosen: Trial;
  trials: Trial[];
}

/**
 * The choices a careful practitioner makes, in the order that keeps the comparisons fair:
 *   1. transform: each usable transform, at the first hidden size, with the same member seeds;
 *   2. hidden size: the other sizes, with the winning transform;
 *   3. ensemble: more seeds for the winner, up to `plan.ensemble` members averaged into one model.
 * Every comparison is by validation MAE relative to persistence in original units (normalised
 * losses of different transforms are not comparable), of the members' average: one seed's luck
 * is not a reason to pick a transform.
 */
export async function chooseModel(data: TrainingData, split: Split, base: Baselines, encodings: Map<TrainTransform, Encoded>, plan: Plan, opts: ResolvedTrainOptions, runMany: RunMany): Promise<AutoResult> {
  const spec = (transform: TrainTransform, hidden: number, member: number): CandidateSpec => ({
    transform,
    hidden,
    layers: opts.layers,
    seed: (opts.seed + member * 7919) >>> 0,
    window: plan.window,
    burnIn: plan.burnIn,
    batch: plan.batch,
    lr: opts.lr,
    weightDecay: opts.weightDecay,
    clip: 1,
    maxEpochs: plan.maxEpochs,
    patience: plan.patience,
    stride: plan.stride,
    windowsPerEpoch: plan.windowsPerEpoch,
  });
  const trial = (stage: Trial['stage'], members: CandidateResult[]): Trial => {
    const { transform, hidden } = members[0].spec;
    const merged = members.length === 1 ? { size: members[0].size, params: members[0].params } : mergeEnsemble(members[0].size, members.map((m) => m.params));
    const validation = validate(merged.size, merged.params, data, encodings.get(transform)!, split);
    return { stage, transform, hidden, members, ...merged, validation, valScore: relativeScore(validation.mae, base) };
  };
  const trials: Trial[] = [];
  const best = (list: Trial[]): Trial => list.reduce((a, b) => (b.valScore < a.valScore ? b : a));
  const memberIds = Array.from({ length: plan.trialMembers }, (_, i) => i);

  const transforms = [...encodings.keys()];
  const first = await runMany(transforms.flatMap((t) => memberIds.map((m) => spec(t, plan.hiddens[0], m))));
  const byTransform = transforms.map((t, i) => trial('transform', first.slice(i * memberIds.length, (i + 1) * memberIds.length)));
  trials.push(...byTransform);
  let winner = best(byTransform);

  const others = plan.hiddens.slice(1);
  if (others.length > 0) {
    const runs = await runMany(others.flatMap((h) => memberIds.map((m) => spec(winner.transform, h, m))));
    const byHidden = others.map((_, i) => trial('hidden', runs.slice(i * memberIds.length, (i + 1) * memberIds.length)));
    trials.push(...byHidden);
    winner = best([winner, ...byHidden]);
  }

  if (plan.ensemble > winner.members.length) {
    const more = await runMany(Array.from({ length: plan.ensemble - winner.members.length }, (_, i) => spec(winner.transform, winner.hidden, winner.members.length + i)));
    winner = trial('ensemble', [...winner.members, ...more]);
    trials.push(winner);
  }
  return { chosen: winner, trials };
}
