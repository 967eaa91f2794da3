import { Transform } from 'node:stream';

export interface NdjsonWriterOptions {
  /** Record fields to leave out (e.g. `actual`, which `gru-stream predict` prints only on request). */
  omit?: readonly string[];
}

/**
 * Objects in, one JSON text line per object out (the `gru-stream predict` output format).
 * Records that queue up while the reader is busy are joined into one chunk (writev), so a fast
 * producer costs one pipe write per batch rather than one per record.
 */
export function createNdjsonWriter(options: NdjsonWriterOptions = {}): Transform {
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
  const line = (record: unknown): string =>
    `${omit && typeof record === 'object' && record !== null ? withoutOmitted(record as Record<string, unknown>) : JSON.stringify(record)}\n`;
  return new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 256,
    transform(record: unknown, _enc, callback) {
      callback(null, line(record));
    },
    writev(this: Transform, chunks: Array<{ chunk: unknown }>, callback: (err?: Error | null) => void) {
      let text = '';
      for (const c of chunks) text += line(c.chunk);
      this.push(text);
      callback();
    },
  });
}
