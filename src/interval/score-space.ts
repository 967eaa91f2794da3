import type { Transform } from '../model/model-config.js';

/**
 * Where residuals are scored. Linear transforms (none, zscore, diff+zscore) map a residual in the
 * transform's space to the original one by a constant factor (std), and the calibration below is
 * scale-equivariant, so scoring in original units gives the same intervals; it is used for them.
 * log_return+zscore is scored in its own space, the log ratio ln(actual / forecast): bounds are
 * then multiplicative, follow the level of a price-like series and never go below zero.
 * BENCHMARKS.md ("Prediction intervals") has the measurement behind the choice.
 */
export interface ScoreSpace {
  readonly name: 'original' | 'log-ratio';
  /** The residual of `actual` against `forecast`. */
  score(actual: number, forecast: number): number;
  /** `forecast` moved by a residual `offset`, in original units. */
  shift(forecast: number, offset: number): number;
}

const ORIGINAL: ScoreSpace = {
  name: 'original',
  score: (actual, forecast) => actual - forecast,
  shift: (forecast, offset) => forecast + offset,
};

const LOG_RATIO: ScoreSpace = {
  name: 'log-ratio',
  score: (actual, forecast) => Math.log(actual / forecast),
  shift: (forecast, offset) => forecast * Math.exp(offset),
};

export function scoreSpaceFor(transform: Transform | string): ScoreSpace {
  return transform === 'log_return+zscore' ? LOG_RATIO : ORIGINAL;
}
