import { ErrorCodes, ModelError, OptionError } from '../errors.js';
import { type KernelPreference, checkKernelPreference } from '../kernel/select.js';
import type { GruModel } from '../model/model.js';

export type InvalidPolicy = 'report' | 'output' | 'fail';

export interface PredictorOptions {
  /** piscina worker threads; 0 (default) steps everything on the calling thread. */
  workers?: number;
  /** Forecast steps per sample (default 1). Steps > 1 roll out on a copy of the state. */
  horizon?: number;
  /** Series whose state is kept at once (default 16384). Past it the least recently used is evicted. */
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
  injectWorkerFault?: () => boolean;
}

function int(options: PredictorOptions, key: keyof PredictorOptions, fallback: number, min: number, max: number): number {
  const v = options[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new OptionError(`options.${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`, { option: key });
  }
  return v;
}

/** Validate predictor options once, at the boundary, against the model they will drive. */
export function resolvePredictorOptions(model: GruModel, options: PredictorOptions): ResolvedOptions {
  const { inputSize, outputSize, transform } = model.config;
  if (outputSize === 0) throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, 'the model has no head (head.weight, head.bias), so it cannot forecast');
  const horizon = int(options, 'horizon', 1, 1, 10000);
  // De-normalising a forecast, or feeding it back as the next input, needs one output per column.
  if (outputSize !== inputSize && (transform !== 'none' || horizon > 1)) {
    throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `${transform !== 'none' ? `transform ${transform}` : `horizon ${horizon}`} needs one head output per input column (input_size ${inputSize}, output_size ${outputSize})`);
  }
  const capacity = int(options, 'capacity', 16384, 4, 1 << 24);
  // The two batches alive at once (one stepping, one filling) hold at most 2 * maxBatch series, all
  // more recently used than any other; keeping capacity above that guarantees LRU eviction never
  // picks a slot a batch still refers to.
  const maxBatch = Math.min(int(options, 'maxBatch', 512, 1, 65536), Math.floor((capacity - 1) / 2));
  const onInvalid = options.onInvalid ?? 'report';
  if (!['report', 'output', 'fail'].includes(onInvalid)) {
    throw new OptionError(`options.onInvalid must be 'report', 'output' or 'fail' (got ${JSON.stringify(onInvalid)})`, { option: 'onInvalid' });
  }
  if (options.knownSeries !== undefined && (!Array.isArray(options.knownSeries) || options.knownSeries.some((s) => typeof s !== 'string'))) {
    throw new OptionError('options.knownSeries must be an array of strings', { option: 'knownSeries' });
  }
  return {
    workers: int(options, 'workers', 0, 0, 256),
    horizon,
    capacity,
    maxBatch,
    onInvalid,
    knownSeries: options.knownSeries ? new Set(options.knownSeries) : null,
    kernel: options.kernel === undefined ? model.kernelPreference : checkKernelPreference(options.kernel),
    highWaterMark: int(options, 'highWaterMark', 64, 1, 1 << 20),
    injectWorkerFault: options.injectWorkerFault,
  };
}
