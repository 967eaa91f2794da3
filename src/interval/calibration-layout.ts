/**
 * Every number the interval calibration keeps for one series, in one Float64Array, so a snapshot
 * is the array's bytes (bit-identical round trip) and memory per series is fixed at creation.
 * H = horizon, C = columns, L = levels.
 *
 *   [0]                    samples observed (the index the next sample gets)
 *   [scored .. +H)         residuals scored per step k (validation residuals count too)
 *   [cells .. +H·C·(2+2L)) one cell per (step k, column c):
 *                            bias m, scale s, then per level: z_lo, z_hi
 *   [ring .. +H·H·C·3)     the last H forecast paths, [H][C] each, sample i at (i mod H):
 *                            per step and column the forecast and the cell's m and s when it
 *                            was issued (NaN forecast where that sample had none)
 *
 * 8·(1 + H + H·C·(2 + 2L) + 3·H²·C) bytes per series: 88 for one column, one level, horizon 1.
 */
/** Numbers kept per issued forecast: the forecast, and the bias m and scale s it was issued with. */
const ISSUED = 3;

export class CalibrationLayout {
  readonly horizon: number;
  readonly columns: number;
  readonly levels: number;
  readonly scored = 1;
  readonly cells: number;
  readonly cellStride: number;
  readonly ring: number;
  readonly floats: number;

  constructor(horizon: number, columns: number, levels: number) {
    this.horizon = horizon;
    this.columns = columns;
    this.levels = levels;
    this.cells = this.scored + horizon;
    this.cellStride = 2 + 2 * levels;
    this.ring = this.cells + horizon * columns * this.cellStride;
    this.floats = this.ring + horizon * horizon * columns * ISSUED;
  }

  /** Offset of the cell of step k (0-based) and column c. */
  cell(k: number, c: number): number {
    return this.cells + (k * this.columns + c) * this.cellStride;
  }

  /** Offset of the forecast for step k (0-based), column c, issued at sample i (then m, then s). */
  issued(i: number, k: number, c: number): number {
    return this.ring + (((i % this.horizon) * this.horizon + k) * this.columns + c) * ISSUED;
  }
}
