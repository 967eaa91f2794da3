import { seededRandom } from '../util/seeded-random.js';
import type { Baselines } from './baselines.js';
import type { Core } from './core.js';
import type { TrainingData } from './data.js';
import type { Encoded, Split, TrainTransform } from './encode.js';
import { type Validation, validate } from './evaluate.js';
import { type NetSize, initParams, paramCount } from './params.js';

/** Everything that defines one training run; the same spec on the same data gives the same bits. */
export interface CandidateSpec {
  transform: TrainTransform;
  hidden: number;
  layers: number;
  seed: number;
  /** Time steps per training window, and the leading steps of each left out of the loss. */
  window: number;
  burnIn: number;
  batch: number;
  lr: number;
  weightDecay: number;
  clip: number;
  maxEpochs: number;
  /** Stop after this many epochs without a better validation score. */
  patience: number;
  /** Window starts are every `stride` inputs; an epoch visits at most `windowsPerEpoch` of them, shuffled. */
  stride: number;
  windowsPerEpoch: number;
}

export interface EpochRecord {
  epoch: number;
  /** Mean training loss (normalised MSE) over the epoch's batches. */
  trainLoss: number;
  /** Validation MSE in normalised units, and MAE per column in original units. */
  valLoss: number;
  valMae: number[];
  /** Mean over columns of validation MAE / persistence MAE: what candidates are compared by. */
  valScore: number;
}

export interface CandidateResult {
  spec: CandidateSpec;
  size: NetSize;
  /** Parameters of the best epoch. */
  params: Float32Array;
  bestEpoch: number;
  history: EpochRecord[];
  validation: Validation;
  valScore: number;
  stopped: 'patience' | 'max-epochs' | 'deadline';
}

/** Mean over columns of MAE relative to persistence: scale-free, so columns and transforms compare. */
export function relativeScore(mae: number[], b: Baselines): number {
  return mae.reduce((acc, m, c) => acc + m / Math.max(b.persistence[c], 1e-300), 0) / mae.length;
}

interface WindowStart {
  series: number;
  at: number;
}

/** Inputs j of a series whose next input (the target) is still a fit row: j < split - offset - 1. */
export function usableInputs(enc: Encoded, split: Split, s: number): number {
  return split[s] - enc.offset - 1;
}

function windowStarts(enc: Encoded, split: Split, window: number, stride: number): WindowStart[] {
  const starts: WindowStart[] = [];
  enc.inputs.forEach((_, s) => {
    const last = usableInputs(enc, split, s) - window;
    for (let at = last; at >= 0; at -= stride) starts.push({ series: s, at });
  });
  return starts;
}

function shuffle<T>(items: T[], rnd: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

export interface CandidateHooks {
  /** Called after every epoch. */
  onEpoch?: (record: EpochRecord) => void;
  /** performance.now() after which no new epoch starts. */
  deadline?: number;
}

/** Train one candidate with Adam and early stopping on validation MAE (original units). */
export function trainCandidate(core: Core, data: TrainingData, enc: Encoded, split: Split, base: Baselines, spec: CandidateSpec, hooks: CandidateHooks = {}): CandidateResult {
  const C = data.columns.length;
  const size: NetSize = { inputSize: C, hiddenSize: spec.hidden, numLayers: spec.layers, outputSize: C };
  const params = initParams(size, spec.seed);
  const grad = new Float32Array(paramCount(size));
  const W = spec.window;
  const starts = windowStarts(enc, split, W, spec.stride);
  const perEpoch = Math.min(starts.length, spec.windowsPerEpoch);
  const B = Math.min(spec.batch, perEpoch);
  const lossGradient = core.lossGradient(size, W, B);
  const adam = core.adam(params.length, { lr: spec.lr, weightDecay: spec.weightDecay });
  const input = new Float32Array(W * B * C);
  const target = new Float32Array(W * B * C);
  const rnd = seededRandom(spec.seed ^ 0x5eed);
  let best = params.slice();
  let bestEpoch = 0;
  let bestScore = Infinity;
  let validation: Validation | null = null;
  const history: EpochRecord[] = [];
  let stopped: CandidateResult['stopped'] = 'max-epochs';
  for (let epoch = 1; epoch <= spec.maxEpochs; epoch++) {
    shuffle(starts, rnd);
    let lossSum = 0;
    let batches = 0;
    for (let first = 0; first < perEpoch; first += B) {
      const rows = Math.min(B, perEpoch - first);
      for (let b = 0; b < rows; b++) {
        const { series, at } = starts[first + b];
        const x = enc.inputs[series];
        for (let t = 0; t < W; t++) {
          input.set(x.subarray((at + t) * C, (at + t + 1) * C), (t * B + b) * C);
          target.set(x.subarray((at + t + 1) * C, (at + t + 2) * C), (t * B + b) * C);
        }
      }
      lossSum += lossGradient.lossAndGradient(params, input, target, null, spec.burnIn, grad, rows);
      batches++;
      core.clipGradNorm(grad, spec.clip);
      adam.step(params, grad);
    }
    const v = validate(size, params, data, enc, split);
    const valScore = relativeScore(v.mae, base);
    const record: EpochRecord = { epoch, trainLoss: lossSum / batches, valLoss: v.mse, valMae: v.mae, valScore };
    history.push(record);
    // A NaN score (diverged weights) never counts as better.
    if (valScore < bestScore) {
      bestScore = valScore;
      bestEpoch = epoch;
      best = params.slice();
      validation = v;
    }
    hooks.onEpoch?.(record);
    if (epoch - bestEpoch >= spec.patience) {
      stopped = 'patience';
      break;
    }
    if (hooks.deadline !== undefined && performance.now() > hooks.deadline && epoch < spec.maxEpochs) {
      stopped = 'deadline';
      break;
    }
  }
  validation ??= validate(size, best, data, enc, split);
  return { spec, size, params: best, bestEpoch, history, validation, valScore: relativeScore(validation.mae, base), stopped };
}
