import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCodes, InputError } from '../errors.js';
import { LineSplitter } from './line-splitter.js';

export interface LineParserOptions {
  /**
   * Where a line that cannot become a sample is reported: 'event' (default) emits 'invalid' and
   * pushes nothing; 'inline' pushes the InputError itself in the line's place, so a predictor
   * downstream rejects it in order (one record per non-blank line with onInvalid 'output', and
   * 'fail' stops there after every earlier record).
   */
  rejections?: 'event' | 'inline';
  /** Number of the first line fed (default 1), for an input resumed mid-file. */
  firstLine?: number;
}

/**
 * Text (NDJSON, one sample object per line) in, sample objects out, each stamped with its
 * 1-based `line`. Blank lines are skipped; a line that is not JSON (ERR_PARSE) or not an object
 * (ERR_SAMPLE_SHAPE) is reported with its line number (see `rejections`) and the stream goes on.
 */
export function createNdjsonParser(options: LineParserOptions = {}): Transform {
  const lines = new LineSplitter(options.firstLine ?? 1);
  const inline = options.rejections === 'inline';
  const stream: Transform = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer | string, _enc, callback: TransformCallback) {
      lines.push(chunk, emitLine, report);
      callback();
    },
    flush(callback: TransformCallback) {
      lines.end(emitLine);
      callback();
    },
  });
  function report(err: InputError): void {
    if (inline) stream.push(err);
    else stream.emit('invalid', err);
  }
  function emitLine(text: string, line: number): void {
    if (text.trim() === '') return;
    const value = readSampleLine(text, line);
    if (value instanceof InputError) report(value);
    else stream.push(value);
  }
  return stream;
}

/**
 * One non-blank NDJSON line as a sample object stamped with its `line`, or the coded error for a
 * line that is not JSON (ERR_PARSE) or not an object (ERR_SAMPLE_SHAPE). predict's row path reads
 * its non-standard lines with this too, so both paths word their errors alike.
 */
export function readSampleLine(text: string, line: number): Record<string, unknown> | InputError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return new InputError(ErrorCodes.ERR_PARSE, `line ${line}: not valid JSON (${(err as Error).message})`, { line });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new InputError(ErrorCodes.ERR_SAMPLE_SHAPE, `line ${line}: a sample must be a JSON object like {"series": "...", "values": [...]}`, { line });
  }
  (value as Record<string, unknown>).line = line;
  return value as Record<string, unknown>;
}
