import type { GruStreamError } from '../errors.js';
import { type RowSink, SKIPPED_ROW, type StartedRows } from './direct-stepper.js';
import { NdjsonRoundReader, type Round } from './ndjson-round-reader.js';
import { type NdjsonFormat, type NdjsonScan, ndjsonFormat } from './ndjson-scan.js';
import type { Predictor } from './predictor.js';

export { Round } from './ndjson-round-reader.js';

/** A round between NdjsonRows.start() and finish(). */
export interface StartedRound {
  readonly round: Round;
  /** Printed by the native formatter (else as text, row by row). */
  readonly fast: boolean;
  readonly rows: StartedRows;
}

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

/** Size of each buffer the formatter prints rounds into (a round larger than this gets its own). */
const OUT_ARENA_BYTES = 1 << 20;

/**
 * predict's NDJSON path: bytes in, forecast text out, with the record objects and the object-mode
 * streams of parser → predictor → writer left out. NdjsonRoundReader makes rounds of checked lines
 * (the object path's checks, errors and line numbers); this steps them through the predictor's
 * direct stepper, in input order, with the same per-series `seq` check, counters and events, and
 * prints their records as the object path prints them, byte for byte (tested on good, odd and bad
 * input).
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
  private readonly reader: NdjsonRoundReader;
  private readonly format: NdjsonFormat | null;
  /** The native formatter's shape: [lines, columns, outputSize, horizon, withActual]. */
  private readonly formatShape: Int32Array;
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

  constructor(predictor: Predictor, options: NdjsonRowsOptions) {
    this.predictor = predictor;
    this.options = options;
    this.reader = new NdjsonRoundReader(predictor, options.firstLine, options.scan);
    this.format = options.format === undefined ? ndjsonFormat() : options.format;
    const { config } = predictor.model;
    this.C = config.inputSize;
    this.O = config.outputSize;
    this.H = predictor.options.horizon;
    this.levels = new Float64Array(this.H * Math.max(1, this.O));
    this.formatShape = Int32Array.of(0, this.C, this.O, this.H, options.withActual ? 1 : 0);
  }

  /** The number of the first line not in a round yet: once every round made is run, all lines before it are applied. */
  get nextLine(): number {
    return this.reader.nextLine;
  }

  /** The rejection that stops the input under onInvalid 'fail' (rounds after it are not made). */
  get failure(): GruStreamError | null {
    return this.reader.failure;
  }

  /** Add input bytes. */
  feed(chunk: Buffer): void {
    this.reader.feed(chunk);
  }

  /** End of input: a last line without a newline still counts. */
  end(): void {
    this.reader.end();
  }

  /** The next round of complete lines fed, or null when none is left (or the input failed). */
  nextRound(): Round | null {
    return this.reader.nextRound();
  }

  /** Step a round's samples in order and return their records (and error records), as the object path prints them. */
  async run(round: Round): Promise<string | Buffer> {
    return this.finish(await this.start(round));
  }

  /**
   * run() in two halves: start() admits the round's samples and hands their kernel batch to the
   * predictor, finish() waits for it and prints the records. A caller may start round k+1 before it
   * finishes round k (then a worker steps k+1 while k is printed), but must finish k before it
   * takes round k+2 from nextRound().
   */
  async start(round: Round): Promise<StartedRound> {
    const fast = round.allFast && this.format !== null;
    round.stepped = 0;
    round.text = '';
    const sink: RowSink = fast ? (i, row, t, out) => this.decode(round, i, row, t, out) : (i, row, t, out) => this.print(round, i, row, t, out);
    return { round, fast, rows: await this.predictor.startRows(round.lines, this.slotOf(round), round.scan.values, sink) };
  }

  /** The round's records, once its samples have stepped. */
  async finish(started: StartedRound): Promise<string | Buffer> {
    const { round } = started;
    await this.predictor.finishRows(started.rows);
    this.predictor.countDirect(round.samples, round.stepped, round.rejected);
    return started.fast ? this.formatRound(round, this.format!) : round.text;
  }

  /** A row's record (and the error record before it), as text. */
  private print(round: Round, i: number, row: number, t: number, out: Float32Array): void {
    const err = round.errorLines[i];
    if (err !== undefined) {
      round.text += err;
      round.errorLines[i] = undefined;
    }
    if (row === SKIPPED_ROW) return;
    round.stepped++;
    round.text += this.record(round, i, row, t, out);
  }

  /** A FAST row's forecasts decoded for the native formatter. */
  private decode(round: Round, i: number, row: number, t: number, out: Float32Array): void {
    const { C, O, H } = this;
    const HO = H * O;
    const { rowOf, stepsOf, levelsOf } = round;
    const values = round.scan.values;
    const normaliser = this.predictor.normaliserForRows();
    rowOf[i] = row;
    if (row === SKIPPED_ROW) return;
    round.stepped++;
    stepsOf[i] = t;
    for (let k = 0; k < H && row >= 0; k++) {
      for (let o = 0; o < O; o++) {
        // Each step of a path is decoded from the previous step's level, as decodePath does.
        const level = k === 0 ? values[i * C + o] : levelsOf[i * HO + (k - 1) * O + o];
        levelsOf[i * HO + k * O + o] = normaliser.decodeValue(out[(row * H + k) * O + o], o, level);
      }
    }
  }

  /** A round of FAST lines printed natively from its decoded forecasts. */
  private formatRound(round: Round, format: NdjsonFormat): Buffer {
    const { C, O, H } = this;
    const HO = H * O;
    this.formatShape[0] = round.lines;
    const bound = round.bytes + round.lines * (96 + 32 * (2 * HO + C + 2));
    if (this.outArena.length - this.outAt < bound) {
      this.outArena = Buffer.allocUnsafeSlow(Math.max(OUT_ARENA_BYTES, bound));
      this.outAt = 0;
    }
    const out = this.outArena.subarray(this.outAt, this.outAt + bound);
    const n = format(round.data, round.scan, this.formatShape, round.rowOf, round.stepsOf, round.levelsOf, out);
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
