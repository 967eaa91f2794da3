/**
 * Every failure gru-stream reports is a GruStreamError with a stable `code`.
 * Callers (and tests) branch on the code, never on the wording.
 * The README's error table lists these codes; keep the two in step.
 */
export const ErrorCodes = {
  /** The model file is not a valid safetensors container (header, JSON, dtype, offsets). */
  ERR_MODEL_FORMAT: 'ERR_MODEL_FORMAT',
  /** A tensor is missing, extra, or has a shape that disagrees with the metadata. */
  ERR_MODEL_SHAPE: 'ERR_MODEL_SHAPE',
  /** `__metadata__` is missing a field or has a value that cannot be used. */
  ERR_MODEL_METADATA: 'ERR_MODEL_METADATA',
  /** A weight or normaliser value is NaN or infinite. */
  ERR_MODEL_VALUES: 'ERR_MODEL_VALUES',
  /** The model file could not be read from disk. */
  ERR_MODEL_IO: 'ERR_MODEL_IO',
  /** `forward()` got input or h0 of the wrong rank or size. */
  ERR_INPUT_SHAPE: 'ERR_INPUT_SHAPE',
  /** A sample has the wrong number of values for the model. */
  ERR_INPUT_WIDTH: 'ERR_INPUT_WIDTH',
  /** A sample value is NaN, infinite, not a number, or not usable by the transform (log of <= 0). */
  ERR_NON_FINITE: 'ERR_NON_FINITE',
  /** A sample has no usable series id (missing, not a string, empty, too long). */
  ERR_SERIES_ID: 'ERR_SERIES_ID',
  /** A sample names a series outside the configured `knownSeries`. */
  ERR_UNKNOWN_SERIES: 'ERR_UNKNOWN_SERIES',
  /** A sample is not an object of the documented shape. */
  ERR_SAMPLE_SHAPE: 'ERR_SAMPLE_SHAPE',
  /** An input file (--input, --replay) cannot be read. */
  ERR_INPUT_IO: 'ERR_INPUT_IO',
  /** A line of NDJSON or CSV input could not be parsed. */
  ERR_PARSE: 'ERR_PARSE',
  /** An option passed to an API or the CLI is invalid. */
  ERR_OPTION: 'ERR_OPTION',
  /** `importState()` got a snapshot that does not fit this model. */
  ERR_STATE_FORMAT: 'ERR_STATE_FORMAT',
  /** A worker failed repeatedly on the same batch; the batch's samples were rejected. */
  ERR_WORKER: 'ERR_WORKER',
  /** The server cannot listen on the requested host and port (in use, not permitted, no such address). */
  ERR_LISTEN: 'ERR_LISTEN',
  /** Command-line usage error. */
  ERR_USAGE: 'ERR_USAGE',
  /** A benchmark's forecasts disagreed with the reference. */
  ERR_BENCH_MISMATCH: 'ERR_BENCH_MISMATCH',
  /** A WebSocket upgrade without the server's token (answered with HTTP 401, nothing processed). */
  ERR_AUTH: 'ERR_AUTH',
  /** A WebSocket message that is not text, not JSON, or not one of the documented message shapes. */
  ERR_MESSAGE: 'ERR_MESSAGE',
  /** A forecast subscriber stayed too far behind for too long and was disconnected (close code 4008). */
  ERR_SLOW_CONSUMER: 'ERR_SLOW_CONSUMER',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ErrorDetails {
  /** 1-based line number in the input, where there is one. */
  line?: number;
  /** Series id the error concerns, where there is one. */
  series?: string;
  /** Anything else that helps the user find the problem (tensor name, byte offset, option path). */
  [key: string]: unknown;
}

export class GruStreamError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  /** A plain record, safe to JSON.stringify (for NDJSON error lines and WebSocket reports). */
  toJSON(): { code: ErrorCode; message: string } & ErrorDetails {
    return { ...this.details, code: this.code, message: this.message };
  }
}

/** The model file or bytes could not be turned into a usable model. */
export class ModelError extends GruStreamError {}
/** A sample, a forward() argument or an input line was rejected. */
export class InputError extends GruStreamError {}
/** An option was invalid. */
export class OptionError extends GruStreamError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(ErrorCodes.ERR_OPTION, message, details);
  }
}
/** A state snapshot could not be imported. */
export class StateError extends GruStreamError {}
/** Worker-pool failures that survived the retry. */
export class WorkerError extends GruStreamError {}

export function isGruStreamError(err: unknown): err is GruStreamError {
  return err instanceof GruStreamError;
}
