import { createReadStream } from 'node:fs';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { GruStreamError } from '../errors.js';
import { createInputParser } from '../stream/open-input.js';
import type { WriteGate } from './backpressure.js';

/**
 * Samples from a file, stdin or any readable (`--input FILE|-`) fed into the predictor as fast as
 * it takes them. The input ending does not end the predictor: /ingest and the replay share it,
 * and the server keeps serving what it has.
 */
export interface SourceSink {
  gate: WriteGate;
  /** Counts one sample handed to the predictor. */
  onSample: () => void;
  /** A line the parser could not turn into a sample. */
  onInvalid: (err: GruStreamError) => void;
}

export interface InputOptions extends SourceSink {
  input: string | Readable;
  format: 'ndjson' | 'csv' | undefined;
  columns: readonly string[];
  /** Series id for CSV rows without a series column; default the file name without extension. */
  series: string | undefined;
}

export interface InputSource {
  /** Resolves when the input is consumed (or stopped); rejects on read or fatal parse errors. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Writes parsed samples through the gate, waiting for 'drain' whenever the predictor is full. */
export async function feed(samples: AsyncIterable<object>, sink: SourceSink, signal: AbortSignal): Promise<void> {
  for await (const sample of samples) {
    if (signal.aborted || sink.gate.isClosed) return;
    sink.onSample();
    if (!sink.gate.write(sample)) await sink.gate.drained();
  }
}

/** A source's lifetime: `done` settles when `run` ends; stop() aborts it and waits. An abort is not an error. */
export function sourceHandle(run: (signal: AbortSignal) => Promise<void>): InputSource {
  const abort = new AbortController();
  const done = run(abort.signal).catch((err: Error) => {
    if (abort.signal.aborted) return;
    throw err;
  });
  return {
    done,
    stop: async () => {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}

export function startInput(options: InputOptions): InputSource {
  const path = typeof options.input === 'string' ? options.input : undefined;
  const source: Readable = path === undefined ? (options.input as Readable) : path === '-' ? process.stdin : createReadStream(path);
  const parser = createInputParser({ path, format: options.format, columns: options.columns, series: options.series });
  parser.on('invalid', options.onInvalid);
  return sourceHandle((signal) => pipeline(source, parser, (samples: AsyncIterable<object>) => feed(samples, options, signal), { signal }));
}
