import { type GruStreamError, isGruStreamError } from '../errors.js';
import { MAX_SERIES_ID_LENGTH } from '../state/series-id.js';
import { IdInterner } from './id-interner.js';
import { LineJoiner } from './line-joiner.js';
import { MAX_LINE_BYTES, overLongLine } from './line-splitter.js';
import { LineKind, META_STRIDE, Meta, NUMS_STRIDE, type NdjsonScan, ScanBuffers, TKind, ndjsonScan } from './ndjson-scan.js';
import { readSampleLine } from './ndjson-parser.js';
import { type Predictor, errorRecordOf } from './predictor.js';
import { PREDICTOR_NUMBERS } from './predictor-options.js';
import { type CheckedSample, checkSample } from './sample.js';

/**
 * Lines per round at most: a round's rows are stepped together, in batches of at most maxBatch. The
 * default maxBatch, so a round of distinct series is one batch: the batch a worker steps while the
 * previous round is printed (row-loop.ts); a round's fixed costs are small beside 512 lines.
 */
export const ROUND_LINES = PREDICTOR_NUMBERS.maxBatch.fallback;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EMPTY = Buffer.alloc(0);

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
  /** What stepping makes, per line: forecast row, default t, decoded forecast levels (for the native formatter). */
  readonly rowOf = new Int32Array(ROUND_LINES);
  readonly stepsOf = new Float64Array(ROUND_LINES);
  readonly levelsOf: Float64Array;
  /** Records printed as text (rounds not all FAST), and the number of samples stepped. */
  text = '';
  stepped = 0;

  constructor(columns: number, positiveOnly: boolean, levelsPerLine: number) {
    this.scan = new ScanBuffers(ROUND_LINES, columns, MAX_SERIES_ID_LENGTH, positiveOnly);
    this.levelsOf = new Float64Array(ROUND_LINES * levelsPerLine);
  }
}

/**
 * The reading half of predict's NDJSON path (see NdjsonRows): input bytes to rounds of checked
 * lines. Lines of the sample shape are read by the scanner into float64 rows; any other line takes
 * the object path's own code (JSON.parse, then checkSample), so rejections, their codes and their
 * line numbers are the object path's. A rejected line is reported when its round is read (the
 * 'invalid' event; its error record under onInvalid 'output'; the failure under 'fail').
 *
 * Two rounds alternate: a round returned by nextRound() stays intact until the next-but-one call.
 */
export class NdjsonRoundReader {
  private readonly predictor: Predictor;
  private readonly scan: NdjsonScan;
  private readonly rounds: [Round, Round];
  private readonly ids = new IdInterner();
  private readonly joiner = new LineJoiner();
  private nextRoundIndex = 0;
  private readonly C: number;
  /** Input not scanned yet: pending[at..], which may end in a partial line. */
  private pending: Buffer = EMPTY;
  private at = 0;
  private skipping = false;
  private atStart = true;
  private line: number;
  /** The rejection that stops the input under onInvalid 'fail' (rounds after it are not made). */
  failure: GruStreamError | null = null;

  /** firstLine: the number of the first line fed (a resumed input starts mid-file). */
  constructor(predictor: Predictor, firstLine = 1, scan: NdjsonScan = ndjsonScan()) {
    this.predictor = predictor;
    this.scan = scan;
    this.C = predictor.model.config.inputSize;
    this.line = firstLine;
    const positiveOnly = predictor.normaliserForRows().positiveOnly;
    const levels = predictor.options.horizon * predictor.model.config.outputSize;
    this.rounds = [new Round(this.C, positiveOnly, levels), new Round(this.C, positiveOnly, levels)];
  }

  /** The number of the first line not in a round yet. */
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
    // fixed costs for each chunk); the copy costs far less. The rounds may still be printed from
    // their bytes (and the partial is read from pending), so the joiner leaves those buffers alone.
    this.pending = partial.length === 0 ? data : this.joiner.join(partial, data, [this.pending, this.rounds[0].data, this.rounds[1].data]);
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
}
