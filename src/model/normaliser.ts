import type { ModelConfig, Transform } from './model-config.js';

/**
 * The model's input transform and its inverse, exactly as the training recipe in
 * ../shared/fixtures/README.md defines them (float64 arithmetic, cast to float32 for the GRU):
 *   zscore:            x = (v - mean) / std                  forecast = pred * std + mean
 *   log_return+zscore: x = (ln v - ln v_prev - mean) / std   forecast = v * exp(pred * std + mean)
 *   diff+zscore:       x = (v - v_prev - mean) / std         forecast = v + pred * std + mean
 *   none:              x = v                                 forecast = pred
 * The two differencing transforms cannot produce an input from a series' first sample; that sample
 * only primes v_prev and gets no forecast.
 */
export class Normaliser {
  /** log_return+zscore and diff+zscore: each input needs the series' previous raw values. */
  readonly usesPrevious: boolean;
  private readonly transform: Transform;
  private readonly mean: number[];
  private readonly std: number[];

  constructor(config: Pick<ModelConfig, 'transform' | 'normMean' | 'normStd'>) {
    this.transform = config.transform;
    this.usesPrevious = config.transform === 'log_return+zscore' || config.transform === 'diff+zscore';
    const identity = config.transform === 'none';
    this.mean = identity ? config.normMean.map(() => 0) : config.normMean;
    this.std = identity ? config.normStd.map(() => 1) : config.normStd;
  }

  /** Log returns need strictly positive levels: only values above zero are usable. */
  get positiveOnly(): boolean {
    return this.transform === 'log_return+zscore';
  }

  /** Why a finite value is still unusable, or null. */
  rejectValue(v: number): string | null {
    return this.positiveOnly && !(v > 0) ? `${v} is not > 0, which log_return+zscore needs` : null;
  }

  /**
   * Write the normalised input for `values` to x[xAt..]. `prev` holds the series' previous raw
   * values at prevAt (meaningful when hasPrev). Returns false when no input exists yet.
   */
  encode(values: ArrayLike<number>, prev: Float64Array, prevAt: number, hasPrev: boolean, x: Float32Array, xAt: number): boolean {
    return this.encodeFrom(values, 0, values.length, prev, prevAt, hasPrev, x, xAt);
  }

  /** encode() for the `columns` values at values[at..] of a larger array (the direct paths' rows). */
  encodeFrom(values: ArrayLike<number>, at: number, columns: number, prev: Float64Array, prevAt: number, hasPrev: boolean, x: Float32Array, xAt: number): boolean {
    if (this.usesPrevious && !hasPrev) return false;
    const log = this.transform === 'log_return+zscore';
    for (let c = 0; c < columns; c++) {
      const v = !this.usesPrevious ? values[at + c] : log ? Math.log(values[at + c]) - Math.log(prev[prevAt + c]) : values[at + c] - prev[prevAt + c];
      x[xAt + c] = (v - this.mean[c]) / this.std[c];
    }
    return true;
  }

  /** Column c of one normalised forecast p in original units; `level` is that column's last raw value. */
  decodeValue(p: number, c: number, level: number): number {
    if (this.transform === 'none') return p;
    const z = p * this.std[c] + this.mean[c];
    return this.transform === 'log_return+zscore' ? level * Math.exp(z) : this.transform === 'diff+zscore' ? level + z : z;
  }

  /** One normalised forecast (pred[at..], `columns` values) in original units; `level` is the last raw values. */
  decodeRow(pred: Float32Array, at: number, columns: number, level: ArrayLike<number>): number[] {
    const row = new Array<number>(columns);
    for (let c = 0; c < columns; c++) row[c] = this.decodeValue(pred[at + c], c, this.transform === 'none' ? 0 : level[c]);
    return row;
  }

  /**
   * Turn `steps` normalised forecasts (pred[predAt..], `columns` each) into original units, feeding
   * each decoded level into the next step for the differencing transforms. Returns [steps][columns].
   */
  decodePath(pred: Float32Array, predAt: number, steps: number, columns: number, last: ArrayLike<number>): number[][] {
    const path: number[][] = [];
    for (let k = 0; k < steps; k++) path.push(this.decodeRow(pred, predAt + k * columns, columns, k === 0 ? last : path[k - 1]));
    return path;
  }
}
