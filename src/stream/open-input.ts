import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { createCsvParser } from './csv-parser.js';
import { createNdjsonParser } from './ndjson-parser.js';

export type InputFormat = 'ndjson' | 'csv';

export interface InputParserOptions {
  /** The input's path ('-' for stdin), when it has one: it picks the format and the CSV series id. */
  path?: string;
  /** Overrides the format the path's extension implies (.csv is CSV, anything else NDJSON). */
  format?: InputFormat;
  /** The model's columns. */
  columns: readonly string[];
  /** Series id for CSV rows without a `series` column; default the file's base name ("stdin" for -). */
  series?: string;
}

/** The parser for an input: CSV when asked or when the path ends in .csv, NDJSON otherwise. */
export function createInputParser(options: InputParserOptions): Transform {
  const { path, format, columns } = options;
  const csv = format === 'csv' || (format === undefined && path !== undefined && extname(path).toLowerCase() === '.csv');
  if (!csv) return createNdjsonParser();
  const fromFile = path !== undefined && path !== '-';
  const source = options.series ?? (fromFile ? basename(path, extname(path)) : path === '-' ? 'stdin' : undefined);
  return createCsvParser({ columns, ...(source === undefined ? {} : { source }) });
}

export interface OpenedInput {
  source: Readable;
  parser: Transform;
}

/** A file path (or '-' for stdin) with its parser (see createInputParser). */
export function openInput(path: string, columns: readonly string[], stdin: Readable, format?: InputFormat): OpenedInput {
  return { source: path === '-' ? stdin : createReadStream(path), parser: createInputParser({ path, format, columns }) };
}
