import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCodes, InputError } from '../errors.js';
import { LineSplitter } from './line-splitter.js';

/**
 * Text (NDJSON, one sample object per line) in, sample objects out, each stamped with its
 * 1-based `line`. Blank lines are skipped; a line that is not JSON is reported as an 'invalid'
 * event (ERR_PARSE with the line number) and the stream goes on.
 */
export function createNdjsonParser(): Transform {
  const lines = new LineSplitter();
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
    stream.emit('invalid', err);
  }
  function emitLine(text: string, line: number): void {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      report(new InputError(ErrorCodes.ERR_PARSE, `line ${line}: not valid JSON (${(err as Error).message})`, { line }));
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      report(new InputError(ErrorCodes.ERR_SAMPLE_SHAPE, `line ${line}: a sample must be a JSON object like {"series": "...", "values": [...]}`, { line }));
      return;
    }
    (value as Record<string, unknown>).line = line;
    stream.push(value);
  }
  return stream;
}
