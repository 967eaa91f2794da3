import { Transform } from 'node:stream';

/** Objects in, one JSON text line per object out (the `gru-stream predict` output format). */
export function createNdjsonWriter(): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(record: unknown, _enc, callback) {
      callback(null, `${JSON.stringify(record)}\n`);
    },
  });
}
