import type { Transform } from '../model/model-config.js';
import { Normaliser } from '../model/normaliser.js';
import type { TrainingData } from './data.js';

/** The transforms the trainer chooses among ('none' is never a good idea for a GRU's input). */
export type TrainTransform = Exclude<Transform, 'none'>;
export const TRAIN_TRANSFORMS: readonly TrainTransform[] = ['zscore', 'diff+zscore', 'log_return+zscore'];

/**
 * A data set seen through one transform. Series s has rows [0, rows); its encoded inputs start at row
 * `offset` (1 for the differencing transforms, whose first row only primes v_prev): input j is row
 * j + offset, and the forecast made after it targets row j + offset + 1.
 */
export interface Encoded {
  transform: TrainTransform;
  mean: number[];
  std: number[];
  offset: number;
  /** Per series: [(rows - offset)][columns] float32 inputs, exactly as the predictor would encode them. */
  inputs: Float32Array[];
  normaliser: Normaliser;
}

/** Where each series' validation rows start; rows before it are the fit rows. */
export type Split = number[];

/** The per-row quantity a transform z-scores: the level, its difference, or its log return. */
function raw(transform: TrainTransform, v: Float64Array, at: number, prevAt: number): number {
  if (transform === 'zscore') return v[at];
  return transform === 'diff+zscore' ? v[at] - v[prevAt] : Math.log(v[at]) - Math.log(v[prevAt]);
}

/**
 * Mean and population std (ddof 0, as the fixtures' recipe) per column over the fit rows of every
 * series, or null when the transform cannot be used: a column whose quantity never changes (std 0),
 * or any non-positive value under log returns.
 */
export function transformStats(data: TrainingData, split: Split, transform: TrainTransform): { mean: number[]; std: number[] } | null {
  const C = data.columns.length;
  const offset = transform === 'zscore' ? 0 : 1;
  if (transform === 'log_return+zscore' && data.series.some((s) => s.values.some((v) => !(v > 0)))) return null;
  const sum = new Float64Array(C);
  const count = new Float64Array(C);
  for (const [i, s] of data.series.entries()) {
    for (let r = offset; r < split[i]; r++) for (let c = 0; c < C; c++) sum[c] += raw(transform, s.values, r * C + c, (r - 1) * C + c), count[c]++;
  }
  const mean = Array.from(sum, (v, c) => v / count[c]);
  const sq = new Float64Array(C);
  for (const [i, s] of data.series.entries()) {
    for (let r = offset; r < split[i]; r++) for (let c = 0; c < C; c++) sq[c] += (raw(transform, s.values, r * C + c, (r - 1) * C + c) - mean[c]) ** 2;
  }
  const std = Array.from(sq, (v, c) => Math.sqrt(v / count[c]));
  // A spread this small relative to the level is rounding noise, not signal.
  const scale = Math.max(...mean.map(Math.abs), 1e-300);
  if (std.some((s) => !(s > 1e-12 * scale) || !Number.isFinite(s))) return null;
  return { mean, std };
}

/** Encode every series with the predictor's own Normaliser, so training sees exactly what predict will. */
export function encode(data: TrainingData, split: Split, transform: TrainTransform): Encoded | null {
  const stats = transformStats(data, split, transform);
  if (!stats) return null;
  const C = data.columns.length;
  const normaliser = new Normaliser({ transform, normMean: stats.mean, normStd: stats.std });
  const offset = normaliser.usesPrevious ? 1 : 0;
  const inputs = data.series.map((s) => {
    const x = new Float32Array(Math.max(0, s.rows - offset) * C);
    for (let r = offset; r < s.rows; r++) normaliser.encode(s.values.subarray(r * C, r * C + C), s.values, (r - 1) * C, offset === 1, x, (r - offset) * C);
    return x;
  });
  return { transform, ...stats, offset, inputs, normaliser };
}
