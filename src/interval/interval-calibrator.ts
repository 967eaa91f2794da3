import { ErrorCodes, StateError } from '../errors.js';
import type { GruModel } from '../model/model.js';
import { CalibrationLayout } from './calibration-layout.js';
import { normalQuantile } from './normal-quantile.js';
import { TRACKER, priorZ, startFromResiduals, trackResidual } from './quantile-tracker.js';
import { type ScoreSpace, scoreSpaceFor } from './score-space.js';
import { readValidationResiduals } from './validation-residuals.js';

/** Bounds of one level for the next step, per column in original units; null until calibrated. */
export interface IntervalBounds {
  level: number;
  lower: number[] | null;
  upper: number[] | null;
}

/** Bounds of one level for every step of `path`, [horizon][columns]; null until every step is calibrated. */
export interface IntervalPathBounds {
  level: number;
  lower: number[][] | null;
  upper: number[][] | null;
}

/** What the calibrator adds to a forecast record (one level: the singular names; several: arrays). */
export interface IntervalFields {
  interval?: IntervalBounds;
  intervals?: IntervalBounds[];
  intervalPath?: IntervalPathBounds;
  intervalPaths?: IntervalPathBounds[];
}

/** Identifies a calibration setup in a state snapshot; state from another setup is refused. */
export interface IntervalSignature {
  levels: number[];
  horizon: number;
  space: ScoreSpace['name'];
}

/**
 * Per-series prediction intervals for a predictor: scores each sample against the forecasts made
 * for it (one per step of the horizon), updates that series' calibration (quantile-tracker.ts) and
 * returns the bounds of the new forecast. State per series is one Float64Array of fixed size
 * (calibration-layout.ts), kept per predictor slot and carried by exportState/importState.
 */
export class IntervalCalibrator {
  readonly levels: readonly number[];
  readonly layout: CalibrationLayout;
  readonly space: ScoreSpace;
  /** α/2 per level. */
  private readonly half: Float64Array;
  /** A fresh series' state: the prior, or the model's validation residuals when it has them. */
  private readonly template: Float64Array;
  private readonly bySlot: Array<Float64Array | undefined>;

  constructor(model: GruModel, levels: readonly number[], horizon: number, capacity: number) {
    const C = model.config.inputSize;
    this.levels = levels;
    this.layout = new CalibrationLayout(horizon, C, levels.length);
    this.space = scoreSpaceFor(model.config.transform);
    this.half = Float64Array.from(levels, (level) => (1 - level) / 2);
    this.template = this.startState(readValidationResiduals(model.metadata, model.config, this.space));
    this.bySlot = new Array<Float64Array | undefined>(capacity);
  }

  get signature(): IntervalSignature {
    return { levels: [...this.levels], horizon: this.layout.horizon, space: this.space.name };
  }

  private startState(validation: number[][] | null): Float64Array {
    const { layout, half } = this;
    const cal = new Float64Array(layout.floats).fill(NaN, layout.ring);
    cal[0] = 0;
    for (let k = 0; k < layout.horizon; k++) {
      cal[layout.scored + k] = validation ? validation[0].length : 0;
      for (let c = 0; c < layout.columns; c++) {
        const at = layout.cell(k, c);
        if (validation) {
          // Validation residuals are one-step; step k+1's errors start √(k+1) times as wide (a random
          // walk's growth). Only m and s scale: z is unitless. The online steps correct the guess.
          const grow = Math.sqrt(k + 1);
          startFromResiduals(cal, at, validation[c].map((r) => r * grow), half);
          continue;
        }
        for (let l = 0; l < half.length; l++) {
          const z = priorZ(normalQuantile(1 - half[l]));
          cal[at + 2 + 2 * l] = -z;
          cal[at + 3 + 2 * l] = z;
        }
      }
    }
    return cal;
  }

  /** A new series took `slot` (or a series was reset): it starts from the template. */
  clear(slot: number): void {
    const cal = this.bySlot[slot];
    if (cal) cal.set(this.template);
    else this.bySlot[slot] = this.template.slice();
  }

  /** Add the interval fields to a forecast record of the series in `slot` (see observe). */
  annotate(record: IntervalFields & { actual: number[]; forecast: number[] | null; path?: number[][] | null }, slot: number): void {
    Object.assign(record, this.observe(slot, record.actual, record.path ?? (record.forecast ? [record.forecast] : null)));
  }

  /**
   * One accepted sample of the series in `slot`: score `actual` against the forecasts made for it,
   * remember `path` ([horizon][columns], or null when the sample got no forecast), and return the
   * bounds of `path`.
   */
  observe(slot: number, actual: readonly number[], path: readonly (readonly number[])[] | null): IntervalFields {
    const { layout, half, space } = this;
    const cal = this.bySlot[slot]!;
    const { horizon: H, columns: C } = layout;
    const i = cal[0];
    for (let k = 0; k < H && k < i; k++) {
      const from = i - 1 - k;
      if (Number.isNaN(cal[layout.issued(from, k, 0)])) continue;
      const first = cal[layout.scored + k] === 0;
      for (let c = 0; c < C; c++) {
        const at = layout.issued(from, k, c);
        trackResidual(cal, layout.cell(k, c), space.score(actual[c], cal[at]), cal[at + 1], cal[at + 2], half, first);
      }
      cal[layout.scored + k]++;
    }
    for (let k = 0; k < H; k++) {
      for (let c = 0; c < C; c++) {
        const at = layout.issued(i, k, c);
        const cell = layout.cell(k, c);
        cal[at] = path ? path[k][c] : NaN;
        cal[at + 1] = cal[cell];
        cal[at + 2] = cal[cell + 1];
      }
    }
    cal[0] = i + 1;
    return this.fields(cal, path);
  }

  private fields(cal: Float64Array, path: readonly (readonly number[])[] | null): IntervalFields {
    const { layout } = this;
    const H = layout.horizon;
    const stepReady = path !== null && cal[layout.scored] >= TRACKER.minScored;
    const pathReady = path !== null && cal[layout.scored + H - 1] >= TRACKER.minScored;
    const next: IntervalBounds[] = [];
    const paths: IntervalPathBounds[] = [];
    for (let l = 0; l < this.levels.length; l++) {
      const level = this.levels[l];
      if (!stepReady) next.push({ level, lower: null, upper: null });
      else {
        const [lower, upper] = this.bounds(cal, path[0], 0, l);
        next.push({ level, lower, upper });
      }
      if (H === 1) continue;
      if (!pathReady) paths.push({ level, lower: null, upper: null });
      else {
        const lower: number[][] = [];
        const upper: number[][] = [];
        for (let k = 0; k < H; k++) {
          const [lo, up] = this.bounds(cal, path[k], k, l);
          lower.push(lo);
          upper.push(up);
        }
        paths.push({ level, lower, upper });
      }
    }
    const out: IntervalFields = next.length === 1 ? { interval: next[0] } : { intervals: next };
    if (H > 1) {
      if (paths.length === 1) out.intervalPath = paths[0];
      else out.intervalPaths = paths;
    }
    return out;
  }

  /** Step k's bounds of level l around `forecast`, per column. */
  private bounds(cal: Float64Array, forecast: readonly number[], k: number, l: number): [number[], number[]] {
    const { layout, space } = this;
    const lower = new Array<number>(layout.columns);
    const upper = new Array<number>(layout.columns);
    for (let c = 0; c < layout.columns; c++) {
      const at = layout.cell(k, c);
      const m = cal[at];
      const s = cal[at + 1];
      const a = space.shift(forecast[c], m + s * cal[at + 2 + 2 * l]);
      const b = space.shift(forecast[c], m + s * cal[at + 3 + 2 * l]);
      // The two trackers are independent, so they can cross for a while; publish an ordered pair.
      lower[c] = Math.min(a, b);
      upper[c] = Math.max(a, b);
    }
    return [lower, upper];
  }

  /** The series' calibration as base64 of its float64 bytes: bit-identical through JSON. */
  exportSlot(slot: number): string {
    const cal = this.bySlot[slot]!;
    return Buffer.from(cal.buffer, cal.byteOffset, cal.byteLength).toString('base64');
  }

  /** Check an exported calibration before anything is applied; throws ERR_STATE_FORMAT. */
  decode(value: unknown, where: string): Float64Array {
    const { layout } = this;
    const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
    if (bytes.length !== layout.floats * 8) throw new StateError(ErrorCodes.ERR_STATE_FORMAT, `cannot import state: ${where} intervals has ${bytes.length} bytes, expected ${layout.floats * 8}`);
    const cal = new Float64Array(layout.floats);
    new Uint8Array(cal.buffer).set(bytes);
    const observed = cal[0];
    // The forecast ring may hold NaN (samples without a forecast); everything before it is finite.
    for (let j = 0; j < layout.ring; j++) {
      if (!Number.isFinite(cal[j]) || (j < layout.cells && (cal[j] < 0 || !Number.isInteger(cal[j])))) {
        throw new StateError(ErrorCodes.ERR_STATE_FORMAT, `cannot import state: ${where} intervals has an invalid value at ${j}`);
      }
    }
    if (observed > Number.MAX_SAFE_INTEGER) throw new StateError(ErrorCodes.ERR_STATE_FORMAT, `cannot import state: ${where} intervals has an invalid sample count`);
    return cal;
  }

  importSlot(slot: number, cal: Float64Array): void {
    this.clear(slot);
    this.bySlot[slot]!.set(cal);
  }
}
