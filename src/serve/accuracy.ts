import type { IntervalBounds } from '../interval/interval-calibrator.js';

/**
 * Live one-step-ahead accuracy per series: when a series' next true value arrives, the forecast
 * made one step earlier is scored against it, next to persistence (the previous true value) on
 * exactly the same steps, so the two running MAEs are comparable. With prediction intervals, the
 * interval made one step earlier is scored too: the share of actuals inside it (coverage) and its
 * mean width, per level, over the steps where it had bounds.
 */

/** The forecast record fields accuracy needs (a subset of the predictor's output record). */
export interface ScoredRecord {
  series: string;
  forecast: number[] | null;
  actual: number[];
  interval?: IntervalBounds;
  intervals?: IntervalBounds[];
}

/** Running interval calibration of one level: coverage and mean width in original units. */
export interface IntervalScore {
  level: number;
  /** Steps scored: steps whose previous record had bounds for this level. */
  n: number;
  /** Share of actuals inside the interval, over steps and columns (null while n = 0). */
  coverage: number | null;
  /** Mean of upper − lower, over steps and columns (null while n = 0). */
  meanWidth: number | null;
}

export interface AccuracySnapshot {
  type: 'accuracy';
  series: string;
  /** Steps scored: steps where both a forecast and a previous actual existed for this one. */
  n: number;
  /** Mean absolute error of the model, over steps and columns, in the series' original units. */
  maeModel: number | null;
  /** Mean absolute error of persistence (forecast = previous actual) over the same steps. */
  maePersistence: number | null;
  /** 'model' or 'persistence' when one has the lower MAE, 'tie' otherwise (including n = 0). */
  winner: 'model' | 'persistence' | 'tie';
  /** 1 - maeModel / maePersistence: > 0 means the model beats persistence (null when undefined). */
  skill: number | null;
  /** With prediction intervals: one entry per level, in the predictor's order. */
  intervals?: IntervalScore[];
}

/** Totals over every series the tracker holds (steps weighted equally). */
export interface OverallAccuracy {
  series: number;
  n: number;
  maeModel: number | null;
  maePersistence: number | null;
  intervals?: IntervalScore[];
}

interface LevelSums {
  level: number;
  n: number;
  inside: number;
  width: number;
}

interface SeriesScore {
  lastForecast: number[] | null;
  lastActual: number[] | null;
  lastIntervals: IntervalBounds[] | null;
  n: number;
  sumModel: number;
  sumPersistence: number;
  levels: LevelSums[] | null;
}

const toScore = (l: LevelSums): IntervalScore => ({ level: l.level, n: l.n, coverage: l.n > 0 ? l.inside / l.n : null, meanWidth: l.n > 0 ? l.width / l.n : null });

export class AccuracyTracker {
  private readonly scores = new Map<string, SeriesScore>();

  /** Scores `record` against what came before for its series; true when a step was scored. */
  observe(record: ScoredRecord): boolean {
    let s = this.scores.get(record.series);
    if (!s) {
      s = { lastForecast: null, lastActual: null, lastIntervals: null, n: 0, sumModel: 0, sumPersistence: 0, levels: null };
      this.scores.set(record.series, s);
    }
    const actual = record.actual;
    let scored = false;
    // Only steps where both contenders had a forecast count, so neither gets easier steps.
    if (s.lastForecast && s.lastActual && s.lastForecast.length === actual.length && s.lastActual.length === actual.length) {
      let model = 0;
      let persistence = 0;
      for (let c = 0; c < actual.length; c++) {
        model += Math.abs(s.lastForecast[c] - actual[c]);
        persistence += Math.abs(s.lastActual[c] - actual[c]);
      }
      s.sumModel += model / actual.length;
      s.sumPersistence += persistence / actual.length;
      s.n++;
      scored = true;
    }
    const intervals = record.interval ? [record.interval] : record.intervals ?? null;
    if (intervals) {
      s.levels ??= intervals.map((iv) => ({ level: iv.level, n: 0, inside: 0, width: 0 }));
      if (s.lastIntervals && this.scoreIntervals(s.lastIntervals, s.levels, actual)) scored = true;
    }
    s.lastForecast = record.forecast;
    s.lastActual = actual;
    s.lastIntervals = intervals;
    return scored;
  }

  /** Score the intervals made one step earlier against `actual`; true when one had bounds. */
  private scoreIntervals(previous: IntervalBounds[], levels: LevelSums[], actual: number[]): boolean {
    let any = false;
    for (let l = 0; l < levels.length && l < previous.length; l++) {
      const { lower, upper } = previous[l];
      if (!lower || !upper || lower.length !== actual.length) continue;
      let inside = 0;
      let width = 0;
      for (let c = 0; c < actual.length; c++) {
        if (actual[c] >= lower[c] && actual[c] <= upper[c]) inside++;
        width += upper[c] - lower[c];
      }
      levels[l].inside += inside / actual.length;
      levels[l].width += width / actual.length;
      levels[l].n++;
      any = true;
    }
    return any;
  }

  /**
   * The predictor dropped this series' state (eviction): its next forecast starts from a fresh
   * state, so the pending forecast is discarded. The running totals go too: an evicted series is
   * one the server decided not to keep, and keeping its totals would grow without bound.
   */
  forget(series: string): void {
    this.scores.delete(series);
  }

  snapshot(series: string): AccuracySnapshot | undefined {
    const s = this.scores.get(series);
    if (!s) return undefined;
    const maeModel = s.n > 0 ? s.sumModel / s.n : null;
    const maePersistence = s.n > 0 ? s.sumPersistence / s.n : null;
    let winner: AccuracySnapshot['winner'] = 'tie';
    if (maeModel !== null && maePersistence !== null && maeModel !== maePersistence) winner = maeModel < maePersistence ? 'model' : 'persistence';
    const skill = maeModel !== null && maePersistence !== null && maePersistence > 0 ? 1 - maeModel / maePersistence : null;
    return { type: 'accuracy', series, n: s.n, maeModel, maePersistence, winner, skill, ...(s.levels ? { intervals: s.levels.map(toScore) } : {}) };
  }

  /** Every held series together: each scored step counts once, whichever series it belongs to. */
  overall(): OverallAccuracy {
    let n = 0;
    let sumModel = 0;
    let sumPersistence = 0;
    let levels: LevelSums[] | null = null;
    for (const s of this.scores.values()) {
      n += s.n;
      sumModel += s.sumModel;
      sumPersistence += s.sumPersistence;
      if (!s.levels) continue;
      levels ??= s.levels.map((l) => ({ level: l.level, n: 0, inside: 0, width: 0 }));
      s.levels.forEach((l, i) => {
        levels![i].n += l.n;
        levels![i].inside += l.inside;
        levels![i].width += l.width;
      });
    }
    const out: OverallAccuracy = { series: this.scores.size, n, maeModel: n > 0 ? sumModel / n : null, maePersistence: n > 0 ? sumPersistence / n : null };
    if (levels) out.intervals = levels.map(toScore);
    return out;
  }

  series(): IterableIterator<string> {
    return this.scores.keys();
  }
}
