/**
 * Every failure gru-stream reports is a GruStreamError with a stable `code`.
 * Callers (and tests) branch on the code, never on the wording.
 *
 * The code fixes the class: CODE_CLASS below is the one table of codes, each with the class its
 * errors have, and GruStreamError's constructor refuses a code given to any other class (a
 * TypeError: a bug in the thrower, not a user error). Adding a code is one line in CODE_CLASS
 * and a row in the README's error table; keep the two in step.
 */
const CODE_CLASS = {
  /** The model file is not a valid safetensors or ONNX container (header, JSON, protobuf, dtype, offsets). */
  ERR_MODEL_FORMAT: 'ModelError',
  /** A tensor is missing, extra, or has a shape that disagrees with the metadata. */
  ERR_MODEL_SHAPE: 'ModelError',
  /** `__metadata__` is missing a field or has a value that cannot be used. */
  ERR_MODEL_METADATA: 'ModelError',
  /** A weight or normaliser value is NaN or infinite. */
  ERR_MODEL_VALUES: 'ModelError',
  /** An ONNX graph holds a node (or a wiring of nodes) other than a GRU export gru-stream can run. */
  ERR_MODEL_GRAPH: 'ModelError',
  /** The model file could not be read from disk. */
  ERR_MODEL_IO: 'ModelError',
  /** `forward()` got input or h0 of the wrong rank or size. */
  ERR_INPUT_SHAPE: 'InputError',
  /** A sample has the wrong number of values for the model. */
  ERR_INPUT_WIDTH: 'InputError',
  /** A sample value is NaN, infinite, not a number, or not usable by the transform (log of <= 0). */
  ERR_NON_FINITE: 'InputError',
  /** A sample has no usable series id (missing, not a string, empty, too long). */
  ERR_SERIES_ID: 'InputError',
  /** A sample names a series outside the configured `knownSeries`. */
  ERR_UNKNOWN_SERIES: 'InputError',
  /** A series handle (predictor.handle()) is not a handle, or its series has since been evicted or reset. */
  ERR_SERIES_HANDLE: 'InputError',
  /** A sample is not an object of the documented shape. */
  ERR_SAMPLE_SHAPE: 'InputError',
  /** An input file (--input, --replay, a benchmark's data file) cannot be read. */
  ERR_INPUT_IO: 'InputError',
  /** The predict --output file cannot be opened or written. */
  ERR_OUTPUT_IO: 'OutputError',
  /** A line of NDJSON or CSV input, or a WebSocket message, could not be parsed. */
  ERR_PARSE: 'InputError',
  /** A WebSocket message that is not text, not JSON, or not one of the documented message shapes. */
  ERR_MESSAGE: 'InputError',
  /** Training data with a series too short for a fit and a validation part (details: series, rows, line). */
  ERR_TOO_FEW_ROWS: 'InputError',
  /** A training column that never changes, so no transform can scale it (details: series, column, line). */
  ERR_CONSTANT_SERIES: 'InputError',
  /** An option passed to an API or the CLI is invalid. */
  ERR_OPTION: 'OptionError',
  /** Command-line usage error. */
  ERR_USAGE: 'UsageError',
  /** `importState()` got a snapshot that does not fit this model. */
  ERR_STATE_FORMAT: 'StateError',
  /** A worker failed repeatedly on the same batch; the batch's samples were rejected. */
  ERR_WORKER: 'WorkerError',
  /** Running from source (tests) with a dist/ build older than the source: workers would run old code. */
  ERR_STALE_BUILD: 'WorkerError',
  /** The native kernel refused its configuration or faulted while stepping (a bug, not bad input). */
  ERR_KERNEL: 'KernelError',
  /** The server cannot listen on the requested host and port (in use, not permitted, no such address). */
  ERR_LISTEN: 'ServeError',
  /** A WebSocket upgrade without the server's token (answered with HTTP 401, nothing processed). */
  ERR_AUTH: 'ServeError',
  /** A forecast subscriber stayed too far behind for too long and was disconnected (close code 4008). */
  ERR_SLOW_CONSUMER: 'ServeError',
  /** A benchmark's forecasts disagreed with the reference. */
  ERR_BENCH_MISMATCH: 'BenchError',
  /** The state directory or a checkpoint file in it cannot be created, read or written. */
  ERR_CHECKPOINT_IO: 'CheckpointError',
  /** Checkpoint files exist under the key but none is intact (each was torn or corrupt). */
  ERR_CHECKPOINT_CORRUPT: 'CheckpointError',
  /** The newest intact checkpoint was written with another model; nothing was loaded. */
  ERR_CHECKPOINT_MODEL: 'CheckpointError',
  /** The checkpoint belongs to a different run (other input, output or options); nothing was loaded. */
  ERR_CHECKPOINT_MISMATCH: 'CheckpointError',
} as const satisfies Record<string, ErrorClassName>;

type ErrorClassName = 'ModelError' | 'InputError' | 'OutputError' | 'OptionError' | 'UsageError' | 'StateError' | 'CheckpointError' | 'WorkerError' | 'KernelError' | 'ServeError' | 'BenchError';

export type ErrorCode = keyof typeof CODE_CLASS;

/** The codes whose errors are of class N. */
export type CodesOf<N extends ErrorClassName> = { [C in ErrorCode]: (typeof CODE_CLASS)[C] extends N ? C : never }[ErrorCode];

/** Every code by name: `ErrorCodes.ERR_PARSE === 'ERR_PARSE'`. */
export const ErrorCodes = Object.freeze(Object.fromEntries(Object.keys(CODE_CLASS).map((code) => [code, code]))) as { readonly [C in ErrorCode]: C };

export interface ErrorDetails {
  /** 1-based line number in the input, where there is one. */
  line?: number;
  /** Series id the error concerns, where there is one. */
  series?: string;
  /** Anything else that helps the user find the problem (tensor name, byte offset, option path). */
  [key: string]: unknown;
}

/** Abstract: every error is of the one subclass its code names in CODE_CLASS. */
export abstract class GruStreamError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    // Messages quote input (ids, cells, parser excerpts) and end up on terminals and in logs.
    super(escapeControl(message));
    const expected = Object.hasOwn(CODE_CLASS, code) ? CODE_CLASS[code] : undefined;
    if (expected !== new.target.name || CLASSES[expected] !== new.target) {
      throw new TypeError(`${String(code)} ${expected ? `belongs to ${expected}, not ${new.target.name}` : 'is not a gru-stream error code'}`);
    }
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  /** A plain record, safe to JSON.stringify (for NDJSON error lines and WebSocket reports). */
  toJSON(): { code: ErrorCode; message: string } & ErrorDetails {
    return { ...this.details, code: this.code, message: this.message };
  }
}

/** A class for the codes CODE_CLASS gives to N; the code is the constructor's first argument. */
function classFor<N extends ErrorClassName>() {
  return class extends GruStreamError {
    declare readonly code: CodesOf<N>;
    constructor(code: CodesOf<N>, message: string, details?: ErrorDetails) {
      super(code, message, details);
    }
  };
}

/** A class for a class's only code, which its constructor supplies. */
function classForCode<C extends ErrorCode>(code: C) {
  return class extends GruStreamError {
    declare readonly code: C;
    constructor(message: string, details?: ErrorDetails) {
      super(code, message, details);
    }
  };
}

/** The model file or bytes could not be turned into a usable model. */
export class ModelError extends classFor<'ModelError'>() {}
/** A sample, a forward() argument, an input line or file, or a WebSocket message was rejected. */
export class InputError extends classFor<'InputError'>() {}
/** The output file could not be written. */
export class OutputError extends classForCode(ErrorCodes.ERR_OUTPUT_IO) {}
/** Serving failed: cannot listen, or a peer was refused or cut off. */
export class ServeError extends classFor<'ServeError'>() {}
/** A state snapshot could not be imported. */
export class StateError extends classFor<'StateError'>() {}
/** A checkpoint could not be written, read or used (codes ERR_CHECKPOINT_*). */
export class CheckpointError extends classFor<'CheckpointError'>() {}
/** Worker-pool failures that survived the retry. */
export class WorkerError extends classFor<'WorkerError'>() {}
/** An option was invalid. */
export class OptionError extends classForCode(ErrorCodes.ERR_OPTION) {}
/** The command line could not be understood (the CLI exits 2). */
export class UsageError extends classForCode(ErrorCodes.ERR_USAGE) {}
/** The native kernel refused its configuration or faulted. */
export class KernelError extends classForCode(ErrorCodes.ERR_KERNEL) {}
/** A benchmark's forecasts disagreed with the reference. */
export class BenchError extends classForCode(ErrorCodes.ERR_BENCH_MISMATCH) {}

/** Each class by the name CODE_CLASS uses (read when an error is constructed, so after these declarations). */
const CLASSES: Readonly<Record<ErrorClassName, abstract new (...args: never[]) => GruStreamError>> = {
  ModelError,
  InputError,
  OutputError,
  ServeError,
  OptionError,
  UsageError,
  StateError,
  CheckpointError,
  WorkerError,
  KernelError,
  BenchError,
};

/**
 * C0 and C1 control characters (and DEL) as visible \uXXXX escapes, so an error message quoting
 * hostile input cannot move the cursor, retitle a terminal (OSC) or forge a log line.
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function isGruStreamError(err: unknown): err is GruStreamError {
  return err instanceof GruStreamError;
}
