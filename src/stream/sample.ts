import { type CodesOf, ErrorCodes, InputError } from '../errors.js';
import type { Normaliser } from '../model/normaliser.js';
import { MAX_SERIES_ID_LENGTH, isSeriesId } from '../state/series-id.js';

/** What producers write to a predictor. `value` is accepted for one-column models. */
export interface Sample {
  series: string;
  values?: number[];
  value?: number;
  /** Timestamp or index; defaults to the series' 0-based sample count. */
  t?: number | string;
  /** 1-based input line, set by the NDJSON/CSV parsers, echoed in errors. */
  line?: number;
  /**
   * Optional per-series sequence number (a non-negative integer, increasing per series). A sample
   * whose seq is not above the last applied one of its series is a duplicate: dropped and counted,
   * so a producer may resend after a crash without applying anything twice.
   */
  seq?: number;
}

/** A sample that passed validation. */
export interface CheckedSample {
  series: string;
  values: number[];
  t: number | string | undefined;
  line: number | undefined;
  seq: number | undefined;
}

/** The largest finite float32: the kernels step float32, so anything beyond becomes Infinity there. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** A rejected value as the user wrote it: a CSV's empty cell is "empty", NaN is NaN, text is quoted. */
function describeValue(v: unknown): string {
  if (v === '') return 'empty';
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'missing';
  return JSON.stringify(v) ?? String(v);
}

function reject(code: CodesOf<'InputError'>, message: string, sample: Record<string, unknown> | null): InputError {
  const details: Record<string, unknown> = {};
  if (sample && isSeriesId(sample.series)) details.series = sample.series;
  if (sample && Number.isSafeInteger(sample.line)) details.line = sample.line;
  const where = details.line !== undefined ? `line ${details.line}: ` : '';
  return new InputError(code, `${where}${message}`, details);
}

/** Validate one sample against the model's columns. Throws a coded InputError; never mutates. */
export function checkSample(raw: unknown, columns: readonly string[], normaliser: Normaliser, knownSeries: ReadonlySet<string> | null): CheckedSample {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw reject(ErrorCodes.ERR_SAMPLE_SHAPE, `a sample must be an object like {"series": "...", "values": [...]}, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`, null);
  }
  const s = raw as Record<string, unknown>;
  const line = Number.isSafeInteger(s.line) ? (s.line as number) : undefined;
  if (!isSeriesId(s.series)) {
    throw reject(ErrorCodes.ERR_SERIES_ID, `"series" must be a non-empty string of at most ${MAX_SERIES_ID_LENGTH} characters`, s);
  }
  if (knownSeries && !knownSeries.has(s.series)) throw reject(ErrorCodes.ERR_UNKNOWN_SERIES, `unknown series "${s.series}"`, s);
  let values: unknown = s.values;
  if (values === undefined && s.value !== undefined) values = [s.value];
  if (!Array.isArray(values)) throw reject(ErrorCodes.ERR_SAMPLE_SHAPE, `"values" must be an array of ${columns.length} numbers (${columns.join(', ')})`, s);
  if (values.length !== columns.length) {
    throw reject(ErrorCodes.ERR_INPUT_WIDTH, `expected ${columns.length} values (${columns.join(', ')}), got ${values.length}`, s);
  }
  for (let c = 0; c < values.length; c++) {
    const v = values[c];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw reject(ErrorCodes.ERR_NON_FINITE, `${columns[c]} is ${describeValue(v)}, not a finite number`, s);
    if (v > FLOAT32_MAX || v < -FLOAT32_MAX) throw reject(ErrorCodes.ERR_NON_FINITE, `${columns[c]} is ${v}, beyond the float32 range (±3.4e38) the model computes in`, s);
    const why = normaliser.rejectValue(v);
    if (why) throw reject(ErrorCodes.ERR_NON_FINITE, `${columns[c]} ${why}`, s);
  }
  if (s.t !== undefined && typeof s.t !== 'string' && !(typeof s.t === 'number' && Number.isFinite(s.t))) {
    throw reject(ErrorCodes.ERR_SAMPLE_SHAPE, '"t" must be a finite number or a string', s);
  }
  if (s.seq !== undefined && !(typeof s.seq === 'number' && Number.isSafeInteger(s.seq) && s.seq >= 0)) {
    throw reject(ErrorCodes.ERR_SAMPLE_SHAPE, '"seq" must be a non-negative integer', s);
  }
  return { series: s.series, values: values as number[], t: s.t as number | string | undefined, line, seq: s.seq as number | undefined };
}
