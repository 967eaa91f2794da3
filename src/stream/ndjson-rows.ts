import { type GruStreamError, isGruStreamError } from '../errors.js';
import { MAX_SERIES_ID_LENGTH } from '../state/series-id.js';
import { SKIPPED_ROW } from './direct-stepper.js';
import { IdInterner } from './id-interner.js';
import { MAX_LINE_BYTES, overLongLine } from './line-splitter.js';
import { LineKind, META_STRIDE, Meta, NUMS_STRIDE, type NdjsonFormat, type NdjsonScan, ScanBuffers, TKind, ndjsonFormat, ndjsonScan } from './ndjson-scan.js';
import { readSampleLine } from './ndjson-parser.js';
import { type Predictor, errorRecordOf } from './predictor.js';
import { type CheckedSample, checkSample } from './sample.js';

export interface NdjsonRowsOptions {
  /** Print each sample's own values as "actual" (predict --with-actual). */
  withActual: boolean;
  /** Number of the first line fed (a resumed input starts mid-file). */
  firstLine?: number;
  /** Called with each accepted sample's series before it is applied (the predict job's cold-start count). */
  onSeries?: (series: string) => void;
  /** The scanner (tests compare the native and the portable one). */
  scan?: NdjsonScan;
  /** The record formatter; null formats in JS (tests compare the two). Default: the native one when built. */
  format?: NdjsonFormat | null;
}

/** Lines per round at most: a round's rows are stepped together (in batches of at most maxBatch). */
const ROUND_LINES = 1024;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EMPTY = Buffer.alloc(0);
/** Size of each buffer the formatter prints rounds into (a round larger than this gets its own). */
const OUT_ARENA_BYTES = 1 << 20;

/** Up to ROUND_LINES consecutive input lines, scanned and checked, ready to step. */
export class Round {
  readonly scan: ScanBuffers;
  /** Per line: the series id, or null when the line is no sample (blank, rejected). */
  readonly ids: Array<string | null> = new Array(ROUND_LINES).fill(null);
  readonly ts: Array<number | string | undefined> = new Array(ROUND_LINES).fill(undefined);
  /** Per line: its seq, -1 when none. */
  readonly seqs = new Float64Array(ROUND_LINES);
  /** Per line: the error record printed in its place (onInvalid 'output'). */
  readonly errorLines: Array<string | undefined> = new Array(ROUND_LINES).fill(undefined);
  lines = 0;
  samples = 0;
  rejected = 0;
  /** Every line FAST or blank: the native formatter can print the round from `data`. */
  allFast = true;
  /** The bytes the round was scanned from (ids and t strings are read from them). */
  data: Buffer = Buffer.alloc(0);
  /** Bytes the round's lines span. */
  bytes = 0;

  constructor(columns: number, positiveOnly: boolean) {
    this.scan = new ScanBuffers(ROUND_LINES, columns, MAX_SERIES_ID_LENGTH, positiveOnly);
  }
}

/**
 * predict's NDJSON path: bytes in, forecast text out, with the record objects and the object-mode
 * streams of parser → predictor → writer left out. Lines of the sample shape are read by the
 * scanner into float64 rows; any other line takes the object path's own code (JSON.parse, then
 * checkSample), so the output is byte for byte the object path's, errors and line numbers included
 * (tested on good, odd and bad input). Rows are stepped through the predictor's direct stepper, in
 * input order, with the same per-series `seq` check, counters and events.
 *
 *   feed(chunk) ─► nextRound(): scan ─► FAST rows ──────────────────────┐
 *                                    └ GENERAL lines: JSON.parse + check ┴► run(round): step ─► NDJSON text
 *
 * Two rounds alternate, so a caller may prepare round k+1 while round k steps on a worker thread
 * (but must await run(k) before run(k+1)). Not for predictors with prediction intervals (their
 * records are made by the object path). The predictor must not be written to otherwise meanwhile.
 */
export class NdjsonRows {
  private readonly predictor: Predictor;
  private readonly options: NdjsonRowsOptions;
  private readonly scan: NdjsonScan;
  private readonly format: NdjsonFormat | null;
  /** The native formatter's per-line inputs: shape, forecast row, default t, decoded forecast levels. */
  private readonly formatShape: Int32Array;
  private readonly rowOf = new Int32Array(ROUND_LINES);
  private readonly stepsOf = new Float64Array(ROUND_LINES);
  private readonly levelsOf: Float64Array;
  private readonly rounds: [Round, Round];
  private readonly ids = new IdInterner();
  private nextRoundIndex = 0;
  private readonly C: number;
  private readonly O: number;
  private readonly H: number;
  /** Decoded levels of one row's forecast path. */
  private readonly levels: Float64Array;
  /**
   * Where rounds' records are printed, one after another: the bound a round reserves is many times
   * its text, so a buffer per round would allocate (and collect) mostly unused bytes. A region once
   * returned is never written again (it may still be queued for output); consecutive rounds' texts
   * are adjacent, so the output sink writes them as one piece without copying.
   */
  private outArena: Buffer = Buffer.alloc(0);
  private outAt = 0;
  /** Input not scanned yet: pending[at..], which may end in a partial line. */
  private pending: Buffer = EMPTY;
  private at = 0;
  private skipping = false;
  private atStart = true;
  private line: number;
  /** The rejection that stops the input under onInvalid 'fail' (rounds after it are not made). */
  failure: GruStreamError | null = null;

  constructor(predictor: Predictor, options: NdjsonRowsOptions) {
    this.predictor = predictor;
    this.options = options;
    this.scan = options.scan ?? ndjsonScan();
    this.format = options.format === undefined ? ndjsonFormat() : options.format;
    const { config } = predictor.model;
    this.C = config.inputSize;
    this.O = config.outputSize;
    this.H = predictor.options.horizon;
    this.line = options.firstLine ?? 1;
    const positiveOnly = predictor.normaliserForRows().positiveOnly;
    this.rounds = [new Round(this.C, positiveOnly), new Round(this.C, positiveOnly)];
    this.levels = new Float64Array(this.H * Math.max(1, this.O));
    this.formatShape = Int32Array.of(0, this.C, this.O, this.H, options.withActual ? 1 : 0);
    this.levelsOf = new Float64Array(ROUND_LINES * this.H * this.O);
  }

  /** The number of the first line not in a round yet: once every round made is run, all lines before it are applied. */
  get nextLine(): number {
    return this.line;
  }

  /** Add input bytes. */
  feed(chunk: Buffer): void {
    let data = chunk;
    if (this.skipping) {
      // The rest of an over-long line, already reported.
      const nl = data.indexOf(10);
      if (nl === -1) return;
      this.skipping = false;
      this.line++;
      data = data.subarray(nl + 1);
    }
    if (this.atStart) data = this.dropBom(data);
    if (data.length === 0) return;
    const partial = this.partial();
    // A line cut by the chunk boundary is joined to the whole chunk, not only to the rest of its
    // line: a piece of one line would be a round of one line (a one-row kernel call and a round's
    // fixed costs for each chunk); the copy costs far less.
    this.pending = partial.length === 0 ? data : Buffer.concat([partial, data]);
    this.at = 0;
  }

  /** End of input: a last line without a newline still counts. */
  end(): void {
    if (!this.skipping && this.partial().length > 0) this.feed(Buffer.from('\n'));
  }

  /** The next round of complete lines fed, or null when none is left (or the input failed). */
  nextRound(): Round | null {
    if (this.failure) return null;
    const round = this.rounds[this.nextRoundIndex];
    const data = this.pending;
    const n = this.scan(data, this.at, data.length, round.scan);
    if (n > 0) {
      const from = this.at;
      this.at = data.indexOf(10, round.scan.meta[(n - 1) * META_STRIDE + Meta.END]) + 1;
      round.data = data;
      round.bytes = this.at - from;
      this.check(round, data, n);
      this.nextRoundIndex ^= 1;
      return round;
    }
    if (this.partial().length <= MAX_LINE_BYTES) return null;
    // An over-long line: reported once in its place, then skipped to its end.
    this.pending = EMPTY;
    this.skipping = true;
    round.lines = 1;
    round.samples = 1;
    round.allFast = false;
    round.rejected = 0;
    round.ids[0] = null;
    this.reject(round, 0, overLongLine(this.line));
    this.nextRoundIndex ^= 1;
    return round;
  }

  /** Step a round's samples in order and return their records (and error records), as the object path prints them. */
  async run(round: Round): Promise<string | Buffer> {
    if (round.allFast && this.format) return this.runFormatted(round, this.format);
    const { errorLines } = round;
    let text = '';
    let stepped = 0;
    await this.predictor.stepRows(round.lines, this.slotOf(round), round.scan.values, (i, row, t, out) => {
      const err = errorLines[i];
      if (err !== undefined) {
        text += err;
        errorLines[i] = undefined;
      }
      if (row === SKIPPED_ROW) return;
      stepped++;
      text += this.record(round, i, row, t, out);
    });
    this.predictor.countDirect(round.samples, stepped, round.rejected);
    return text;
  }

  /** run() for a round of FAST lines: the forecasts decoded here, the records printed natively. */
  private async runFormatted(round: Round, format: NdjsonFormat): Promise<Buffer> {
    const { C, O, H, rowOf, stepsOf, levelsOf } = this;
    const HO = H * O;
    const values = round.scan.values;
    const normaliser = this.predictor.normaliserForRows();
    let stepped = 0;
    await this.predictor.stepRows(round.lines, this.slotOf(round), values, (i, row, t, out) => {
      rowOf[i] = row;
      if (row === SKIPPED_ROW) return;
      stepped++;
      stepsOf[i] = t;
      for (let k = 0; k < H && row >= 0; k++) {
        for (let o = 0; o < O; o++) {
          // Each step of a path is decoded from the previous step's level, as decodePath does.
          const level = k === 0 ? values[i * C + o] : levelsOf[i * HO + (k - 1) * O + o];
          levelsOf[i * HO + k * O + o] = normaliser.decodeValue(out[(row * H + k) * O + o], o, level);
        }
      }
    });
    this.predictor.countDirect(round.samples, stepped, round.rejected);
    this.formatShape[0] = round.lines;
    const bound = round.bytes + round.lines * (96 + 32 * (2 * HO + C + 2));
    if (this.outArena.length - this.outAt < bound) {
      this.outArena = Buffer.allocUnsafeSlow(Math.max(OUT_ARENA_BYTES, bound));
      this.outAt = 0;
    }
    const out = this.outArena.subarray(this.outAt, this.outAt + bound);
    const n = format(round.data, round.scan, this.formatShape, rowOf, stepsOf, levelsOf, out);
    if (n < 0) throw new Error(`NDJSON formatter: ${bound} bytes were not enough for ${round.lines} records`);
    this.outAt += n;
    return out.subarray(0, n);
  }

  /** The stepper's slotOf for a round: null ids skip, the cold-start hook, then admission with the seq check. */
  private slotOf(round: Round): (i: number) => number {
    const { ids, seqs } = round;
    const onSeries = this.options.onSeries;
    return (i) => {
      const id = ids[i];
      if (id === null) return -1;
      onSeries?.(id);
      const seq = seqs[i];
      return this.predictor.admitRow(id, seq < 0 ? undefined : seq);
    };
  }

  private partial(): Buffer {
    return this.pending.subarray(this.at);
  }

  /** A byte-order mark opens the stream, as TextDecoder (the object path's decoder) drops it. */
  private dropBom(data: Buffer): Buffer {
    const seen = Buffer.concat([this.partial(), data]);
    if (seen.length < BOM.length && BOM.subarray(0, seen.length).equals(seen)) {
      this.pending = seen;
      this.at = 0;
      return EMPTY;
    }
    this.atStart = false;
    if (seen.subarray(0, 3).equals(BOM)) {
      this.pending = EMPTY;
      return seen.subarray(3);
    }
    return data;
  }

  /** Sort the round's n scanned lines: FAST ones as scanned, the rest through JSON.parse and checkSample. */
  private check(round: Round, data: Buffer, n: number): void {
    const { meta, nums, values } = round.scan;
    const { knownSeries } = this.predictor.options;
    const C = this.C;
    round.lines = n;
    round.samples = 0;
    round.rejected = 0;
    round.allFast = true;
    for (let i = 0; i < n; i++) {
      const m = i * META_STRIDE;
      const line = this.line++;
      round.ids[i] = null;
      const kind = meta[m + Meta.KIND];
      if (kind === LineKind.BLANK) continue;
      if (kind === LineKind.FAST) {
        const id = this.ids.idOf(data, meta[m + Meta.ID_START], meta[m + Meta.ID_END]);
        if (!knownSeries || knownSeries.has(id)) {
          round.samples++;
          round.ids[i] = id;
          const tKind = meta[m + Meta.T_KIND];
          round.ts[i] = tKind === TKind.NONE ? undefined : tKind === TKind.NUMBER ? nums[i * NUMS_STRIDE] : data.toString('latin1', meta[m + Meta.T_START], meta[m + Meta.T_END]);
          round.seqs[i] = nums[i * NUMS_STRIDE + 1];
          continue;
        }
      }
      round.allFast = false;
      const text = data.toString('utf8', meta[m + Meta.START], meta[m + Meta.END]);
      if (text.trim() === '') continue;
      round.samples++;
      const sample = this.general(text, line);
      if (isGruStreamError(sample)) {
        this.reject(round, i, sample);
        if (!this.failure) continue;
        // 'fail': the lines before this one are stepped; this one and the rest never are.
        round.lines = i;
        this.line = line;
        this.pending = EMPTY;
        return;
      }
      round.ids[i] = sample.series;
      round.ts[i] = sample.t;
      round.seqs[i] = sample.seq ?? -1;
      for (let c = 0; c < C; c++) values[i * C + c] = sample.values[c];
    }
  }

  /** A rejected line: the failure under 'fail', else reported, and under 'output' an error record in its place. */
  private reject(round: Round, i: number, err: GruStreamError): void {
    round.rejected++;
    const policy = this.predictor.options.onInvalid;
    if (policy === 'fail') {
      this.failure = err;
      return;
    }
    this.predictor.emit('invalid', err);
    if (policy === 'output') {
      round.errorLines[i] = `${JSON.stringify(errorRecordOf(err))}\n`;
    }
  }

  /** A GENERAL line as the object path reads it: the NDJSON parser's readSampleLine, then checkSample. */
  private general(text: string, line: number): CheckedSample | GruStreamError {
    const value = readSampleLine(text, line);
    if (isGruStreamError(value)) return value;
    try {
      return checkSample(value, this.predictor.model.config.columns, this.predictor.normaliserForRows(), this.predictor.options.knownSeries);
    } catch (err) {
      if (isGruStreamError(err)) return err;
      throw err;
    }
  }

  /** One record's line, as recordFormatter prints the object path's record (key order included). */
  private record(round: Round, i: number, row: number, steps: number, out: Float32Array): string {
    const { C, O, H, levels } = this;
    const values = round.scan.values;
    const normaliser = this.predictor.normaliserForRows();
    const t = round.ts[i];
    let text = `{"series":${JSON.stringify(round.ids[i])},"t":${t === undefined ? steps : JSON.stringify(t)},"forecast":`;
    let path = '';
    if (row < 0) {
      text += 'null';
      if (H > 1) path = ',"path":null';
    } else {
      for (let k = 0; k < H; k++) {
        let step = '[';
        for (let o = 0; o < O; o++) {
          const level = k === 0 ? values[i * C + o] : levels[(k - 1) * O + o];
          levels[k * O + o] = normaliser.decodeValue(out[(row * H + k) * O + o], o, level);
          step += `${o > 0 ? ',' : ''}${num(levels[k * O + o])}`;
        }
        step += ']';
        if (k === 0) text += step;
        if (H > 1) path += `${k === 0 ? ',"path":[' : ','}${step}${k === H - 1 ? ']' : ''}`;
      }
    }
    if (this.options.withActual) {
      text += ',"actual":[';
      for (let c = 0; c < C; c++) text += `${c > 0 ? ',' : ''}${num(values[i * C + c])}`;
      text += ']';
    }
    const seq = round.seqs[i];
    if (seq >= 0) text += `,"seq":${seq}`;
    return `${text}${path}}\n`;
  }
}

const num = (v: number): string => (Number.isFinite(v) ? String(v) : 'null');
