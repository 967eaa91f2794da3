import type { TrainingData } from './data.js';
import type { Split } from './encode.js';

/**
 * The forecasts every learned model must be compared with, on the same validation rows:
 * persistence (the previous row) and seasonal naive (the row one season back).
 */
export interface Baselines {
  /** Per column MAE of persistence. */
  persistence: number[];
  /** Detected season length in rows, or null when the data shows none. */
  period: number | null;
  /** Per column MAE of seasonal naive at `period` (null without a period). */
  seasonalNaive: number[] | null;
}

/** MAE per column of forecasting row r by row r - lag, over the validation rows of every series. */
export function laggedMae(data: TrainingData, split: Split, lag: number): number[] {
  const C = data.columns.length;
  const sum = new Float64Array(C);
  let n = 0;
  for (const [i, s] of data.series.entries()) {
    for (let r = Math.max(split[i], lag); r < s.rows; r++, n++) {
      for (let c = 0; c < C; c++) sum[c] += Math.abs(s.values[r * C + c] - s.values[(r - lag) * C + c]);
    }
  }
  return Array.from(sum, (v) => v / Math.max(n, 1));
}

/**
 * The season length: the lag in [2, fitRows / 3] (at most 400) where the autocorrelation of the first
 * differences of the fit rows peaks, if that peak is a clear one (above 0.3 and above every shorter
 * lag's). Differences remove trend and level, so a monthly series with a yearly pattern peaks at 12;
 * noisy or purely cyclical data (sunspots' ~11-year cycle has no fixed length) peaks nowhere.
 */
export function detectPeriod(data: TrainingData, split: Split): number | null {
  const C = data.columns.length;
  const minFit = Math.min(...split);
  const maxLag = Math.min(400, Math.floor(minFit / 3));
  if (maxLag < 2) return null;
  const acf = new Float64Array(maxLag + 1);
  for (const [i, s] of data.series.entries()) {
    for (let c = 0; c < C; c++) {
      const d = new Float64Array(split[i] - 1);
      for (let r = 1; r < split[i]; r++) d[r - 1] = s.values[r * C + c] - s.values[(r - 1) * C + c];
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      let v0 = 0;
      for (const v of d) v0 += (v - mean) ** 2;
      if (v0 === 0) continue;
      for (let lag = 2; lag <= maxLag; lag++) {
        let acc = 0;
        for (let k = lag; k < d.length; k++) acc += (d[k] - mean) * (d[k - lag] - mean);
        acf[lag] += acc / v0 / (data.series.length * C);
      }
    }
  }
  let best = 2;
  for (let lag = 3; lag <= maxLag; lag++) if (acf[lag] > acf[best]) best = lag;
  return acf[best] > 0.3 ? best : null;
}

export function baselines(data: TrainingData, split: Split): Baselines {
  const period = detectPeriod(data, split);
  return { persistence: laggedMae(data, split, 1), period, seasonalNaive: period === null ? null : laggedMae(data, split, period) };
}
