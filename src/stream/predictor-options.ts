import { ErrorCodes, ModelError, OptionError } from '../errors.js';
import { type KernelPreference, checkKernelPreference } from '../kernel/select.js';
import type { GruModel } from '../model/model.js';
import { resolveIntervalLevels } from '../interval/interval-options.js';

export type InvalidPolicy = 'report' | 'output' | 'fail';

export interface PredictorOptions {
  /** piscina worker threads; 0 (default) steps everything on the calling thread. */
  workers?: number;
  /** Forecast steps per sample (default 1). Steps > 1 roll out on a copy of the state. */
  horizon?: number;
  /** Series whose state is kept at once (default PREDICTOR_NUMBERS.capacity, 16384). Past it the least recently used is evicted. */
  capacity?: number;
  /** Largest micro-batch stepped at once (default 512; capped at (capacity - 1) / 2). */
  maxBatch?: number;
  /**
   * Invalid samples: 'report' (default) emits an 'invalid' event and goes on; 'output' also
   * pushes an error record in the sample's place; 'fail' destroys the stream with the error.
   */
  onInvalid?: InvalidPolicy;
  /** When set, samples for other series ids are rejected with ERR_UNKNOWN_SERIES. */
  knownSeries?: readonly string[];
  kernel?: KernelPreference;
  /** Objects buffered on each side before backpressure (default 64). */
  highWaterMark?: number;
  /**
   * Prediction intervals: a level (0.9) or several ([0.8, 0.95]). Records then carry `interval`
   * (or `intervals`), and with horizon > 1 `intervalPath` (or `intervalPaths`). Off by default.
   */
  interval?: number | readonly number[];
  /** Test-only: called per worker batch; true makes that worker die half-way through it. */
  injectWorkerFault?: () => boolean;
}

export interface ResolvedOptions {
  workers: number;
  horizon: number;
  capacity: number;
  maxBatch: number;
  onInvalid: InvalidPolicy;
  knownSeries: ReadonlySet<string> | null;
  kernel: KernelPreference;
  highWaterMark: number;
  /** Interval levels in the order given, or null when intervals are off. */
  intervalLevels: number[] | null;
  injectWorkerFault?: () => boolean;
}

/**
 * Default and inclusive range of every numeric predictor option: the one place these numbers
 * live (the CLI's help text and serve() read them from here).
 */
export const PREDICTOR_NUMBERS = Object.freeze({
  workers: { fallback: 0, min: 0, max: 256 },
  horizon: { fallback: 1, min: 1, max: 10_000 },
  capacity: { fallback: 16_384, min: 4, max: 1 << 24 },
  maxBatch: { fallback: 512, min: 1, max: 65_536 },
  highWaterMark: { fallback: 64, min: 1, max: 1 << 20 },
});

type NumberKey = keyof typeof PREDICTOR_NUMBERS;

function int(options: PredictorOptions, key: NumberKey): number {
  const { fallback, min, max } = PREDICTOR_NUMBERS[key];
  const v = options[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new OptionError(`options.${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`, { option: key });
  }
  return v;
}

const INVALID_POLICIES: readonly InvalidPolicy[] = ['report', 'output', 'fail'];

/** The checks that need no model; serve() runs them before it loads one, so a bad option fails first. */
export function checkPredictorOptions(options: PredictorOptions): Omit<ResolvedOptions, 'kernel'> & { kernel: KernelPreference | undefined } {
  if (options === null || typeof options !== 'object') throw new OptionError('options must be an object');
  const capacity = int(options, 'capacity');
  // The two batches alive at once (one stepping, one filling) hold at most 2 * maxBatch series, all
  // more recently used than any other; keeping capacity above that guarantees LRU eviction never
  // picks a slot a batch still refers to.
  const maxBatch = Math.min(int(options, 'maxBatch'), Math.floor((capacity - 1) / 2));
  const onInvalid = options.onInvalid ?? 'report';
  if (!INVALID_POLICIES.includes(onInvalid)) {
    throw new OptionError(`options.onInvalid must be 'report', 'output' or 'fail' (got ${JSON.stringify(onInvalid)})`, { option: 'onInvalid' });
  }
  if (options.knownSeries !== undefined && (!Array.isArray(options.knownSeries) || options.knownSeries.some((s) => typeof s !== 'string' || s === ''))) {
    throw new OptionError('options.knownSeries must be an array of non-empty strings', { option: 'knownSeries' });
  }
  const horizon = int(options, 'horizon');
  return {
    workers: int(options, 'workers'),
    horizon,
    capacity,
    maxBatch,
    onInvalid,
    knownSeries: options.knownSeries ? new Set(options.knownSeries) : null,
    kernel: options.kernel === undefined ? undefined : checkKernelPreference(options.kernel),
    highWaterMark: int(options, 'highWaterMark'),
    intervalLevels: resolveIntervalLevels(options.interval, horizon),
    injectWorkerFault: options.injectWorkerFault,
  };
}

/** Validate predictor options once, at the boundary, against the model they will drive. */
export function resolvePredictorOptions(model: GruModel, options: PredictorOptions): ResolvedOptions {
  const checked = checkPredictorOptions(options);
  const { inputSize, outputSize, transform } = model.config;
  if (outputSize === 0) throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, 'the model has no head (head.weight, head.bias), so it cannot forecast');
  // De-normalising a forecast, or feeding it back as the next input, needs one output per column.
  if (outputSize !== inputSize && (transform !== 'none' || checked.horizon > 1)) {
    throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `${transform !== 'none' ? `transform ${transform}` : `horizon ${checked.horizon}`} needs one head output per input column (input_size ${inputSize}, output_size ${outputSize})`);
  }
  return { ...checked, kernel: checked.kernel ?? model.kernelPreference };
}
