/**
 * Live one-step-ahead accuracy per series: when a series' next true value arrives, the forecast
 * made one step earlier is scored against it, next to persistence (the previous true value) on
 * exactly the same steps, so the two running MAEs are comparable.
 */

/** The forecast record fields accuracy needs (a subset of the predictor's output record). */
export interface ScoredRecord {
  series: string;
  forecast: number[] | null;
  actual: number[];
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
}

interface SeriesScore {
  lastForecast: number[] | null;
  lastActual: number[] | null;
  n: number;
  sumModel: number;
  sumPersistence: number;
}

export class AccuracyTracker {
  private readonly scores = new Map<string, SeriesScore>();

  /** Scores `record` against what came before for its series; true when a step was scored. */
  observe(record: ScoredRecord): boolean {
    let s = this.scores.get(record.series);
    if (!s) {
      s = { lastForecast: null, lastActual: null, n: 0, sumModel: 0, sumPersistence: 0 };
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
    s.lastForecast = record.forecast;
    s.lastActual = actual;
    return scored;
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
    return { type: 'accuracy', series, n: s.n, maeModel, maePersistence, winner, skill };
  }

  series(): IterableIterator<string> {
    return this.scores.keys();
  }
}
