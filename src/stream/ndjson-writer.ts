import { Transform } from 'node:stream';

export interface NdjsonWriterOptions {
  /** Record fields to leave out (e.g. `actual`, which `gru-stream predict` prints only on request). */
  omit?: readonly string[];
}

/** One record as its NDJSON line (with the newline), leaving out `omit`'s fields. */
export function recordFormatter(options: NdjsonWriterOptions = {}): (record: unknown) => string {
  const omit = options.omit && options.omit.length > 0 ? new Set(options.omit) : null;
  // Top-level fields one by one: a JSON.stringify replacer would be called for every nested number.
  const withoutOmitted = (record: Record<string, unknown>): string => {
    let out = '';
    for (const key in record) {
      const value = record[key];
      if (omit!.has(key) || value === undefined) continue;
      out += `${out === '' ? '{' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`;
    }
    return out === '' ? '{}' : `${out}}`;
  };
  return (record: unknown): string =>
    `${omit && typeof record === 'object' && record !== null ? withoutOmitted(record as Record<string, unknown>) : JSON.stringify(record)}\n`;
}

/** Lines are gathered up to this many characters before a push (one pipe write each). */
const CHUNK_CHARS = 64 * 1024;

/**
 * Objects in, one JSON text line per object out (the `gru-stream predict` output format).
 * Lines are gathered and pushed once per event-loop turn (or per 64 KiB): stdout on a pipe is a
 * synchronous write(2) per chunk on Linux, and one syscall per record was the largest cost of
 * `predict` when profiled. A turn is also when a predictor batch completes, so latency stays one
 * batch.
 */
export function createNdjsonWriter(options: NdjsonWriterOptions = {}): Transform {
  const line = recordFormatter(options);
  let pending = '';
  let scheduled = false;
  const stream: Transform = new Transform({
    writableObjectMode: true,
    transform(record: unknown, _enc, callback) {
      pending += line(record);
      if (pending.length >= CHUNK_CHARS) pushPending();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(pushPending);
      }
      callback();
    },
    flush(callback) {
      pushPending();
      callback();
    },
  });
  function pushPending(): void {
    scheduled = false;
    if (pending === '' || stream.destroyed) return;
    const text = pending;
    pending = '';
    stream.push(text);
  }
  return stream;
}
