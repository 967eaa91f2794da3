import { nativeAddonModule } from '../kernel/native-kernel.js';
import { MAX_SERIES_ID_LENGTH } from '../state/series-id.js';

/**
 * Lines of NDJSON bytes sorted into sample rows, without a JS string or object per number: the
 * first stage of predict's NDJSON path (src/stream/ndjson-rows.ts).
 *
 * The native scanner (native/ndjson_scan.cc) reads lines of the sample shape straight into float64
 * rows (FAST) and leaves every other line (GENERAL) to JSON.parse, so odd-but-valid input and every
 * error keep the object path's code. The portable scanner, used when the addon is not built, only
 * finds the lines and calls each GENERAL: slower, same results.
 */
export const LineKind = { BLANK: 0, FAST: 1, GENERAL: 2 } as const;
export const TKind = { NONE: 0, NUMBER: 1, STRING: 2 } as const;

/** Ints per line in `meta`, and what each is. */
export const META_STRIDE = 8;
export const Meta = { KIND: 0, START: 1, END: 2, ID_START: 3, ID_END: 4, T_KIND: 5, T_START: 6, T_END: 7 } as const;
/** Float64s per line in `nums`: t (when a number), seq (-1 when absent). */
export const NUMS_STRIDE = 2;

/** What a scan fills, sized for `lines` lines of `columns` values. */
export class ScanBuffers {
  readonly shape: Int32Array;
  readonly meta: Int32Array;
  readonly nums: Float64Array;
  readonly values: Float64Array;

  constructor(readonly lines: number, readonly columns: number, maxIdBytes: number, positiveOnly: boolean) {
    this.shape = Int32Array.of(columns, maxIdBytes, positiveOnly ? 1 : 0);
    this.meta = new Int32Array(lines * META_STRIDE);
    this.nums = new Float64Array(lines * NUMS_STRIDE);
    this.values = new Float64Array(lines * columns);
  }
}

/** Scans the complete lines ('\n'-ended) of buf[start, end) into `into`; returns how many (at most into.lines). */
export type NdjsonScan = (buf: Buffer, start: number, end: number, into: ScanBuffers) => number;

/** Every line GENERAL (or BLANK when empty): JSON.parse does the rest. */
export const portableScan: NdjsonScan = (buf, start, end, into) => {
  const { meta } = into;
  let lines = 0;
  for (let p = start; lines < into.lines;) {
    const nl = buf.indexOf(10, p);
    if (nl === -1 || nl >= end) break;
    const m = lines * META_STRIDE;
    const stop = nl > p && buf[nl - 1] === 13 ? nl - 1 : nl;
    meta[m + Meta.KIND] = stop === p ? LineKind.BLANK : LineKind.GENERAL;
    meta[m + Meta.START] = p;
    meta[m + Meta.END] = stop;
    p = nl + 1;
    lines++;
  }
  return lines;
};

/**
 * The native formatter (native/ndjson_format.cc): a round of FAST lines' records into `out`, numbers
 * as Number#toString prints them; returns the bytes written, or -1 when out is too small.
 * shape = [lines, columns, outputSize, horizon, withActual]; rows per line: a forecast row, -1
 * (null forecast) or -2 (no record); steps: default t per line; levels: [lines][horizon][outputSize].
 */
export type NdjsonFormat = (data: Uint8Array, scanned: ScanBuffers, shape: Int32Array, rows: Int32Array, steps: Float64Array, levels: Float64Array, out: Uint8Array) => number;

interface NdjsonAddon {
  scanMessage?: (buf: Uint8Array, shape: Int32Array, meta: Int32Array, nums: Float64Array, values: Float64Array) => number;
  scanNdjson?: (buf: Uint8Array, start: number, end: number, shape: Int32Array, meta: Int32Array, nums: Float64Array, values: Float64Array) => number;
  formatRows?: (data: Uint8Array, meta: Int32Array, nums: Float64Array, values: Float64Array, shape: Int32Array, rows: Int32Array, steps: Float64Array, levels: Float64Array, out: Uint8Array) => number;
  /** Each value as JSON prints it, then ','; for the tests. */
  numberTexts?: (values: Float64Array, out: Uint8Array) => number;
}

/** The addon's NDJSON functions when it loads (on any x86-64 CPU: they use no AVX), else null. */
export function ndjsonAddon(): NdjsonAddon | null {
  return nativeAddonModule() as NdjsonAddon | null;
}

/** The native scanner when the addon loads, else the portable one. */
export function ndjsonScan(): NdjsonScan {
  const scan = ndjsonAddon()?.scanNdjson;
  return scan ? (buf, start, end, b) => scan(buf, start, end, b.shape, b.meta, b.nums, b.values) : portableScan;
}

/** The native formatter, or null (records are then formatted in JS). */
export function ndjsonFormat(): NdjsonFormat | null {
  const format = ndjsonAddon()?.formatRows;
  return format ? (data, s, shape, rows, steps, levels, out) => format(data, s.meta, s.nums, s.values, shape, rows, steps, levels, out) : null;
}

/** A sample as JSON.parse would have made it from a FAST object (only the keys it had). */
export interface ScannedSample {
  series: string;
  values: number[];
  t?: number | string;
  seq?: number;
}

/** Samples one message may hold before it takes the JSON.parse road (64 KiB of the shortest samples is fewer). */
const MESSAGE_SAMPLES = 4096;

/**
 * A reader for /ingest text messages (one sample object, or an array of them): the samples and
 * whether the message was an array, or null when any part is not of the FAST shape (the caller
 * then uses JSON.parse). Null when the native addon is not built.
 */
export function createMessageScanner(columns: number, positiveOnly: boolean): ((message: Buffer) => { samples: ScannedSample[]; batch: boolean } | null) | null {
  const scan = ndjsonAddon()?.scanMessage;
  if (!scan) return null;
  const b = new ScanBuffers(MESSAGE_SAMPLES, columns, MAX_SERIES_ID_LENGTH, positiveOnly);
  return (message) => {
    const n = scan(message, b.shape, b.meta, b.nums, b.values);
    if (n < 0) return null;
    const samples: ScannedSample[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const m = i * META_STRIDE;
      const s: ScannedSample = { series: message.toString('latin1', b.meta[m + Meta.ID_START], b.meta[m + Meta.ID_END]), values: Array.from(b.values.subarray(i * columns, (i + 1) * columns)) };
      const tKind = b.meta[m + Meta.T_KIND];
      if (tKind === TKind.NUMBER) s.t = b.nums[i * NUMS_STRIDE];
      else if (tKind === TKind.STRING) s.t = message.toString('latin1', b.meta[m + Meta.T_START], b.meta[m + Meta.T_END]);
      const seq = b.nums[i * NUMS_STRIDE + 1];
      if (seq >= 0) s.seq = seq;
      samples[i] = s;
    }
    let first = 0;
    while (message[first] === 0x20 || message[first] === 0x09 || message[first] === 0x0a || message[first] === 0x0d) first++;
    return { samples, batch: message[first] === 0x5b };
  };
}
