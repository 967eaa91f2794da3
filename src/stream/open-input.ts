import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { ErrorCodes, InputError } from '../errors.js';
import { createCsvParser } from './csv-parser.js';
import { createNdjsonParser } from './ndjson-parser.js';

export type InputFormat = 'ndjson' | 'csv';

export interface OpenedInput {
  source: Readable;
  parser: Transform;
  format: InputFormat;
}

/**
 * A file path (or '-' for stdin) and its parser. The format comes from `format`, else the
 * extension (.csv is CSV, anything else NDJSON). CSV files without a `series` column are one
 * series named after the file (stdin: "stdin").
 */
export function openInput(path: string, columns: readonly string[], stdin: Readable, format?: InputFormat): OpenedInput {
  if (format !== undefined && format !== 'ndjson' && format !== 'csv') {
    throw new InputError(ErrorCodes.ERR_OPTION, `format must be ndjson or csv (got "${format}")`);
  }
  const fromStdin = path === '-';
  const chosen: InputFormat = format ?? (!fromStdin && extname(path).toLowerCase() === '.csv' ? 'csv' : 'ndjson');
  const source = fromStdin ? stdin : createReadStream(path);
  const name = fromStdin ? 'stdin' : basename(path, extname(path));
  const parser = chosen === 'csv' ? createCsvParser({ columns, source: name }) : createNdjsonParser();
  return { source, parser, format: chosen };
}
