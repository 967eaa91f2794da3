import { createReadStream } from 'node:fs';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { GruStreamError } from '../errors.js';
import { Marker } from '../stream/marker.js';
import { createInputParser, inputFormatOf } from '../stream/open-input.js';
import { openInputAt } from '../stream/resumable-input.js';
import { type InputMarkToken, InputProgress } from './input-progress.js';
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
  /** A file input under --state-dir: where it resumes, and how far it is applied (input-progress.ts). */
  progress?: InputProgress;
}

export interface InputSource {
  /** Resolves when the input is consumed (or stopped); rejects on read or fatal parse errors. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Writes parsed samples through the gate, waiting for 'drain' whenever the predictor is full. With
 * `progress`, each sample is followed by a Marker naming the next line (see input-progress.ts).
 */
export async function feed(samples: AsyncIterable<object>, sink: SourceSink, signal: AbortSignal, progress?: InputProgress): Promise<void> {
  for await (const sample of samples) {
    if (signal.aborted || sink.gate.isClosed) return;
    sink.onSample();
    let ok = sink.gate.write(sample);
    const line = (sample as { line?: unknown }).line;
    if (progress && typeof line === 'number') ok = sink.gate.write(new Marker({ progress, next: line + 1 } satisfies InputMarkToken));
    if (!ok) await sink.gate.drained();
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
  const { progress } = options;
  return sourceHandle(async (signal) => {
    // A checkpointed file input starts where the checkpoint's state left off.
    const { source, firstLine } = progress
      ? await openInputAt(progress.path, inputFormatOf(path, options.format), progress.position(), progress.offsets)
      : { source: path === undefined ? (options.input as Readable) : path === '-' ? process.stdin : createReadStream(path), firstLine: 1 };
    const parser = createInputParser({ path, format: options.format, columns: options.columns, series: options.series, firstLine });
    parser.on('invalid', options.onInvalid);
    await pipeline(source, parser, (samples: AsyncIterable<object>) => feed(samples, options, signal, progress), { signal });
  });
}
