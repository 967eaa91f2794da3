import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { ErrorCodes, InputError, OptionError } from '../errors.js';
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
  /** See LineParserOptions. */
  rejections?: 'event' | 'inline';
  firstLine?: number;
}

/** `format` checked (the one place it is): 'ndjson', 'csv', or undefined for "from the path". */
export function checkInputFormat(format: unknown): InputFormat | undefined {
  if (format === undefined || format === 'ndjson' || format === 'csv') return format;
  throw new OptionError(`options.format must be "ndjson" or "csv" (got ${JSON.stringify(format)})`, { option: 'format' });
}

/** CSV when asked or when the path ends in .csv; NDJSON otherwise. */
export function isCsvInput(path: string | undefined, format: unknown): boolean {
  const checked = checkInputFormat(format);
  return checked === 'csv' || (checked === undefined && path !== undefined && extname(path).toLowerCase() === '.csv');
}

/** The input's format, by isCsvInput. */
export function inputFormatOf(path: string | undefined, format: unknown): InputFormat {
  return isCsvInput(path, format) ? 'csv' : 'ndjson';
}

/** The parser for an input: CSV when asked or when the path ends in .csv, NDJSON otherwise. */
export function createInputParser(options: InputParserOptions): Transform {
  const { path, format, columns, rejections, firstLine } = options;
  if (!isCsvInput(path, format)) return createNdjsonParser({ rejections, firstLine });
  const fromFile = path !== undefined && path !== '-';
  const source = options.series ?? (fromFile ? basename(path, extname(path)) : path === '-' ? 'stdin' : undefined);
  return createCsvParser({ columns, rejections, firstLine, ...(source === undefined ? {} : { source }) });
}

export interface OpenedInput {
  source: Readable;
  parser: Transform;
}

/** A file path (or '-' for stdin) with its parser (see createInputParser). */
export function openInput(path: string, columns: readonly string[], stdin: Readable, format?: InputFormat): OpenedInput {
  const parser = createInputParser({ path, format, columns });
  return { source: path === '-' ? stdin : createReadStream(path), parser };
}

/**
 * Rejects with ERR_INPUT_IO unless `path` is a readable file, so a mistyped path is reported before
 * any work starts (a read stream would only fail later, mid-pipeline, with a bare errno error).
 */
export async function assertReadableFile(path: string, option: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new InputError(ErrorCodes.ERR_INPUT_IO, `${option} ${path}: cannot read (${e.code ?? e.message})`, { path, option });
  }
}
