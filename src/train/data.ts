import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { ErrorCodes, GruStreamError, InputError } from '../errors.js';
import { Normaliser } from '../model/normaliser.js';
import { TIME_COLUMNS, createCsvParser } from '../stream/csv-parser.js';
import { createNdjsonParser } from '../stream/ndjson-parser.js';
import { assertReadableFile } from '../stream/open-input.js';
import { type Sample, checkSample } from '../stream/sample.js';

/**
 * Training data in memory: one model is trained over every series, all sharing the same columns.
 * Rows are in the order they arrived; `t` plays no part (the series is assumed evenly spaced).
 */
export interface Series {
  id: string;
  /** [rows][columns], row-major, original units. */
  values: Float64Array;
  rows: number;
  /** 1-based input line of each row (0 where the rows came from memory), for errors. */
  lines: Int32Array;
}

export interface TrainingData {
  columns: string[];
  series: Series[];
}

/** What `train()` reads: a path ('-' = stdin), a byte stream (CSV or NDJSON), or samples in memory. */
export type TrainSource = string | Readable | Iterable<Sample> | AsyncIterable<Sample>;

export type DataFormat = 'csv' | 'ndjson';

export interface ReadDataOptions {
  /** Value columns; CSV default: every numeric column other than series and the time columns. */
  columns?: string[];
  /** Default: from the path's extension (.csv), else sniffed (a first character `{` means NDJSON). */
  format?: DataFormat;
  /** Series id for CSV files without a `series` column (default: the file's base name). */
  seriesName?: string;
  stdin?: Readable;
}

const isSampleIterable = (s: unknown): s is Iterable<Sample> | AsyncIterable<Sample> =>
  !(s instanceof Readable) && typeof s === 'object' && s !== null && (Symbol.iterator in s || Symbol.asyncIterator in s);

/** Read and check a whole training set. Rejects with coded errors naming the line of a bad row. */
export async function readTrainingData(source: TrainSource, options: ReadDataOptions = {}): Promise<TrainingData> {
  if (isSampleIterable(source)) return collectSamples(source, options.columns);
  let text: string;
  let name = options.seriesName;
  let format = options.format;
  if (typeof source === 'string') {
    if (source !== '-') await assertReadableFile(source, '--input');
    const ext = extname(source).toLowerCase();
    if (format === undefined && ext === '.csv') format = 'csv';
    if (format === undefined && (ext === '.ndjson' || ext === '.jsonl')) format = 'ndjson';
    name ??= source === '-' ? 'stdin' : source.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
    text = await readAll(source === '-' ? (options.stdin ?? process.stdin) : createReadStream(source));
  } else {
    text = await readAll(source);
  }
  format ??= /^\s*\{/.test(text) ? 'ndjson' : 'csv';
  if (format === 'ndjson') return collectSamples(await parseAll(text, createNdjsonParser()), options.columns);
  const header = headerNames(text);
  const wanted = options.columns ?? header.filter((n) => n !== 'series' && !(TIME_COLUMNS as readonly string[]).includes(n) && n !== '');
  if (wanted.length === 0) throw new InputError(ErrorCodes.ERR_PARSE, `line 1: the CSV header (${header.join(', ')}) has no value columns`, { line: 1 });
  const samples = await parseAll(text, createCsvParser({ columns: wanted, source: name ?? 'csv' }));
  if (samples.length === 0) throw new InputError(ErrorCodes.ERR_TOO_FEW_ROWS, 'the input has no data rows', { rows: 0 });
  // Without --columns, a column with no number in it (a label, a date string) is not a value column.
  const keep = options.columns ? wanted.map((_, c) => c) : wanted.map((_, c) => c).filter((c) => samples.some((s) => Number.isFinite((s.values as number[])[c])));
  if (keep.length === 0) throw new InputError(ErrorCodes.ERR_PARSE, `line 1: no column of the CSV (${header.join(', ')}) holds numbers`, { line: 1 });
  const columns = keep.map((c) => wanted[c]);
  return collectSamples(samples.map((s) => ({ ...s, values: keep.map((c) => (s.values as number[])[c]) })), columns);
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The header record's names, read by the same CSV rules (quoting, BOM) the row parser uses. */
function headerNames(text: string): string[] {
  const records = parseCsv(text, { bom: true, trim: true, to: 1, relax_column_count: true, skip_empty_lines: true }) as string[][];
  return records[0] ?? [];
}

/** Runs text through a sample parser; any line it reports as invalid fails the whole read. */
async function parseAll(text: string, parser: NodeJS.ReadWriteStream & Readable): Promise<Sample[]> {
  const out: Sample[] = [];
  let invalid: GruStreamError | null = null;
  parser.on('invalid', (err: GruStreamError) => (invalid ??= err));
  const done = (async () => {
    for await (const s of parser) out.push(s as unknown as Sample);
  })();
  parser.end(text);
  await done;
  if (invalid) throw invalid;
  return out;
}

/** Groups checked samples by series, in order of first appearance. */
async function collectSamples(samples: Iterable<Sample> | AsyncIterable<Sample>, columns?: string[]): Promise<TrainingData> {
  const identity = new Normaliser({ transform: 'none', normMean: [], normStd: [] });
  const bySeries = new Map<string, { values: number[]; lines: number[] }>();
  let cols = columns;
  for await (const raw of samples) {
    if (cols === undefined) {
      const r = raw as Sample;
      const width = Array.isArray(r?.values) ? r.values.length : r?.value !== undefined ? 1 : 0;
      cols = width === 1 ? ['value'] : Array.from({ length: Math.max(width, 1) }, (_, i) => `x${i}`);
    }
    const s = checkSample(raw, cols, identity, null);
    let entry = bySeries.get(s.series);
    if (!entry) bySeries.set(s.series, (entry = { values: [], lines: [] }));
    entry.values.push(...s.values);
    entry.lines.push(s.line ?? 0);
  }
  if (cols === undefined || bySeries.size === 0) throw new InputError(ErrorCodes.ERR_TOO_FEW_ROWS, 'the input has no data rows', { rows: 0 });
  const series = [...bySeries].map(([id, e]) => ({ id, values: Float64Array.from(e.values), rows: e.lines.length, lines: Int32Array.from(e.lines) }));
  return { columns: cols, series };
}
