import type { Transform, TransformCallback } from 'node:stream';
import { CsvError, type Options, Parser } from 'csv-parse';
import { ErrorCodes, InputError } from '../errors.js';
import { MAX_LINE_BYTES } from './line-splitter.js';

export interface CsvParserOptions {
  /** The model's columns: these header names give the values, in this order. */
  columns: readonly string[];
  /** Series id when the file has no `series` column (e.g. the file's base name). Default "csv". */
  source?: string;
  /** 'inline' pushes a row's InputError in its place instead of emitting 'invalid' (see LineParserOptions). */
  rejections?: 'event' | 'inline';
  /** Number of the first physical line fed (default 1), for an input resumed mid-file. */
  firstLine?: number;
}

/** Header names that give a sample's `t`, first match wins. */
export const TIME_COLUMNS = ['t', 'time', 'date', 'year', 'index'] as const;

interface HeaderMap {
  values: number[];
  series: number;
  t: number;
  width: number;
}

function readHeader(names: string[], columns: readonly string[], line: number): HeaderMap {
  const missing = columns.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new InputError(ErrorCodes.ERR_PARSE, `line ${line}: CSV header lacks the model's column(s) ${missing.join(', ')} (header: ${names.join(', ')})`, { line });
  }
  // R's write.csv (row names) and pandas' to_csv (the index) lead with an unnamed column: it is the row's label.
  const named = TIME_COLUMNS.map((c) => names.indexOf(c)).find((i) => i >= 0);
  const t = named ?? (names[0] === '' ? 0 : -1);
  return { values: columns.map((c) => names.indexOf(c)), series: names.indexOf('series'), t, width: names.length };
}

/** Line breaks inside a record's quoted cells: the record spans that many more physical lines. */
function embeddedBreaks(cells: readonly string[]): number {
  let n = 0;
  for (const cell of cells) if (cell.includes('\n') || cell.includes('\r')) n += cell.match(/\r\n|\r|\n/g)?.length ?? 0;
  return n;
}

/** A number cell as a number; anything else (`NA`, `abc`, empty) stays text so the predictor's ERR_NON_FINITE names it. */
function cellValue(cell: string): number | string {
  const n = Number(cell);
  return cell !== '' && !Number.isNaN(n) ? n : cell;
}

/**
 * csv-parse with its few fatal errors (an unclosed or stray quote, a record over MAX_LINE_BYTES)
 * turned into ERR_PARSE naming the record's first line. They are fatal because after a broken quote
 * the parser cannot know where the next record starts: RFC 4180 reads the rest of the file as one cell.
 */
class SampleCsvParser extends Parser {
  constructor(
    options: Options<Record<string, unknown>, string[]>,
    private readonly lineOf: () => number,
  ) {
    // on_record maps cells to samples, which the declared Options (records in = records out) cannot say.
    super(options as unknown as Options);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(chunk, encoding, (err?: Error | null) => callback(this.coded(err)));
  }

  override _flush(callback: TransformCallback): void {
    super._flush((err?: Error | null) => callback(this.coded(err)));
  }

  private coded(err: Error | null | undefined): Error | null | undefined {
    if (!(err instanceof CsvError)) return err;
    const line = this.lineOf();
    return new InputError(ErrorCodes.ERR_PARSE, `line ${line}: ${err.message.replace(/ at line \d+/, '')} (${err.code})`, { line });
  }
}

/**
 * CSV text in (RFC 4180: quoted fields and headers, embedded commas, quotes and line breaks, CRLF
 * or LF, an optional UTF-8 BOM; R's write.csv and pandas' to_csv output), samples out, each
 * stamped with the 1-based line its record starts on. Other columns are ignored. A row with the
 * wrong number of cells is reported (ERR_PARSE with its line) and skipped; a cell that is not a
 * number (R's `NA`, an empty cell) reaches the predictor as text, which rejects the sample with
 * ERR_NON_FINITE and the same line number. A header without the model's columns, and broken
 * quoting, are fatal: no later row could be read reliably.
 */
export function createCsvParser(options: CsvParserOptions): Transform {
  const source = options.source ?? 'csv';
  let header: HeaderMap | null = null;
  /** First physical line of the next record (empty lines arrive as one-cell records, so none is missed). */
  let nextLine = options.firstLine ?? 1;
  const inline = options.rejections === 'inline';
  const stream: Transform = new SampleCsvParser(
    {
      bom: true,
      trim: true,
      relax_column_count: true,
      max_record_size: MAX_LINE_BYTES,
      on_record: (cells: string[]) => {
        const line = nextLine;
        nextLine += 1 + embeddedBreaks(cells);
        // An InputError travels as a record in inline mode (see LineParserOptions).
        return toSample(cells, line) as Record<string, unknown> | null;
      },
    },
    () => nextLine,
  );

  function toSample(cells: string[], line: number): Record<string, unknown> | InputError | null {
    if (cells.length === 1 && cells[0] === '') return null;
    if (!header) {
      header = readHeader(cells, options.columns, line);
      return null;
    }
    if (cells.length !== header.width) {
      const err = new InputError(ErrorCodes.ERR_PARSE, `line ${line}: ${cells.length} cells, the header has ${header.width}`, { line });
      if (inline) return err;
      stream.emit('invalid', err);
      return null;
    }
    const values = header.values.map((i) => cellValue(cells[i]));
    const series = header.series >= 0 ? cells[header.series] : source;
    const sample: Record<string, unknown> = { series, values, line };
    if (header.t >= 0) {
      const raw = cells[header.t];
      const n = Number(raw);
      sample.t = raw !== '' && Number.isFinite(n) ? n : raw;
    }
    return sample;
  }
  return stream;
}
