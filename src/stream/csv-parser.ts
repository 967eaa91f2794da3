import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCodes, InputError } from '../errors.js';
import { LineSplitter } from './line-splitter.js';

export interface CsvParserOptions {
  /** The model's columns: these header names give the values, in this order. */
  columns: readonly string[];
  /** Series id when the file has no `series` column (e.g. the file's base name). Default "csv". */
  source?: string;
}

/** Header names that give a sample's `t`, first match wins. */
export const TIME_COLUMNS = ['t', 'time', 'date', 'year', 'index'] as const;

interface HeaderMap {
  values: number[];
  series: number;
  t: number;
  width: number;
}

function readHeader(text: string, columns: readonly string[]): HeaderMap {
  const names = text.split(',').map((n) => n.trim());
  const missing = columns.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new InputError(ErrorCodes.ERR_PARSE, `line 1: CSV header lacks the model's column(s) ${missing.join(', ')} (header: ${names.join(', ')})`, { line: 1 });
  }
  const t = TIME_COLUMNS.map((c) => names.indexOf(c)).find((i) => i >= 0) ?? -1;
  return { values: columns.map((c) => names.indexOf(c)), series: names.indexOf('series'), t, width: names.length };
}

/**
 * CSV text (header row, `,` separators, no quoting, as R and pandas write plain numeric tables)
 * in, samples out. Other columns are ignored. A row with the wrong number of cells is reported
 * (ERR_PARSE with its line) and skipped; a cell that is not a number reaches the predictor as NaN,
 * which rejects it with ERR_NON_FINITE and the same line number. A header without the model's
 * columns is fatal: no row of such a file could be read.
 */
export function createCsvParser(options: CsvParserOptions): Transform {
  const lines = new LineSplitter();
  const source = options.source ?? 'csv';
  let header: HeaderMap | null = null;
  const stream: Transform = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer | string, _enc, callback: TransformCallback) {
      try {
        lines.push(chunk, emitLine, report);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        lines.end(emitLine);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
  function report(err: InputError): void {
    stream.emit('invalid', err);
  }
  function emitLine(text: string, line: number): void {
    if (text.trim() === '') return;
    if (!header) {
      header = readHeader(text, options.columns);
      return;
    }
    const cells = text.split(',');
    if (cells.length !== header.width) {
      report(new InputError(ErrorCodes.ERR_PARSE, `line ${line}: ${cells.length} cells, the header has ${header.width}`, { line }));
      return;
    }
    const values = header.values.map((i) => {
      const cell = cells[i].trim();
      return cell === '' ? Number.NaN : Number(cell);
    });
    const series = header.series >= 0 ? cells[header.series].trim() : source;
    const sample: Record<string, unknown> = { series, values, line };
    if (header.t >= 0) {
      const raw = cells[header.t].trim();
      const n = Number(raw);
      sample.t = raw !== '' && Number.isFinite(n) ? n : raw;
    }
    stream.push(sample);
  }
  return stream;
}
