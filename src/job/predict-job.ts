import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { modelFingerprint } from '../checkpoint/fingerprint.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { type GruStreamError, OptionError, isGruStreamError } from '../errors.js';
import type { GruModel } from '../model/model.js';
import { recordFormatter } from '../stream/ndjson-writer.js';
import { type InputFormat, checkInputFormat, createInputParser, inputFormatOf } from '../stream/open-input.js';
import { type Predictor, createPredictor } from '../stream/predictor.js';
import type { InvalidPolicy, PredictorOptions } from '../stream/predictor-options.js';
import { type JobCheckpoint, type JobCounters, type JobIdentity, decodeJobCheckpoint, encodeJobCheckpoint } from './job-checkpoint.js';
import { LineOffsets } from './line-offsets.js';
import { FileSink, type OutputSink, StreamSink } from './output-sink.js';

/**
 * `gru-stream predict` as a library call: input (file or stream) ─▶ parser ─▶ predictor ─▶ output
 * (file or stream), optionally checkpointed to a state directory.
 *
 *   input ─▶ parser (inline rejections) ─▶ loop: [cut if due] write ─▶ predictor ─▶ pump ─▶ sink
 *
 * A checkpoint is a consistent cut taken between two input items: the loop stops writing, the
 * predictor settles (every written sample stepped, every record pushed), the pump moves every
 * record into the sink, the sink is written and fsynced, and only then is the checkpoint (state,
 * the next line's byte offset, the output's length) written atomically. After a crash the same
 * job truncates the output to that length, seeks the input to that offset and restores the state,
 * so the finished output is byte-identical to an uninterrupted run's (records are a deterministic
 * function of the state and the input). Without a seekable input, a resumed run sees the input
 * again and relies on per-series `seq` to drop what was already applied.
 */
export interface PredictJobOptions {
  model: GruModel;
  /** A path, or '-' for `stdin`. */
  input: string;
  stdin?: Readable;
  format?: InputFormat;
  /** A file path; absent: `stdout`. */
  output?: string;
  stdout?: Writable;
  workers?: number;
  horizon?: number;
  capacity?: number;
  /** Prediction interval level(s), as PredictorOptions.interval. */
  interval?: PredictorOptions['interval'];
  onInvalid?: InvalidPolicy;
  /** Print each sample's values as "actual" (default false). */
  withActual?: boolean;
  /** Checkpoint here (key "predict"); resume from it when one exists. */
  stateDir?: string;
  /** Milliseconds between checkpoints (default 1000). */
  checkpointIntervalMs?: number;
  /** Aborting it is a clean shutdown: checkpoint (with stateDir) and stop; the result says interrupted. */
  signal?: AbortSignal;
  /** Diagnostics lines (warnings, checkpoint fallbacks). */
  log?: (line: string) => void;
  /** Each rejected line or sample (onInvalid 'report' and 'output'), in input order. */
  onInvalidSample?: (err: GruStreamError) => void;
}

export interface PredictJobResult extends JobCounters {
  /** The capacity in force (for the eviction summary). */
  capacity: number;
  /** The rejection that stopped the job under onInvalid 'fail'. */
  failure: GruStreamError | null;
  interrupted: boolean;
  /** The checkpoint resumed from, if any. */
  resumedFrom: { generation: number; line: number | null } | null;
  checkpoints: number;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;
/** Evicted ids remembered to spot cold restarts; past this many only the count is exact. */
const MAX_REMEMBERED_EVICTIONS = 1 << 20;

/** The lines at the top of a CSV file up to its header (the first non-blank line), to replay before a resumed offset. */
async function csvHeaderPrefix(path: string): Promise<{ bytes: Buffer; lines: number }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let at = 0;
    let lines = 0;
    for (;;) {
      const nl = buf.indexOf(10, at);
      if (nl === -1 || nl >= bytesRead) return { bytes: buf.subarray(0, bytesRead), lines: lines + 1 };
      lines++;
      const blank = buf.subarray(at, nl).toString('utf8').replace(/^\uFEFF/, '').trim() === '';
      at = nl + 1;
      if (!blank) return { bytes: Buffer.from(buf.subarray(0, at)), lines };
    }
  } finally {
    await fh.close();
  }
}

async function* readFrom(path: string, start: number, prefix: Buffer | null, offsets: LineOffsets | null): AsyncGenerator<Buffer> {
  if (prefix) yield prefix;
  for await (const chunk of createReadStream(path, { start, highWaterMark: 1 << 16 })) {
    offsets?.record(chunk as Buffer);
    yield chunk as Buffer;
  }
}

function lineOf(item: unknown): number | undefined {
  if (isGruStreamError(item)) return item.details.line;
  const line = (item as { line?: unknown } | null)?.line;
  return typeof line === 'number' ? line : undefined;
}

export async function runPredictJob(o: PredictJobOptions): Promise<PredictJobResult> {
  const log = o.log ?? (() => {});
  // Options are checked here, once: the predictor's by createPredictor, the job's own below.
  const predictor: Predictor = createPredictor(o.model, { workers: o.workers, horizon: o.horizon, capacity: o.capacity, interval: o.interval, onInvalid: o.onInvalid });
  try {
    return await runWith(o, predictor, log);
  } catch (err) {
    if (!predictor.destroyed) predictor.destroy();
    throw err;
  }
}

async function runWith(o: PredictJobOptions, predictor: Predictor, log: (line: string) => void): Promise<PredictJobResult> {
  const interval = o.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
    throw new OptionError(`options.checkpointIntervalMs must be a positive number of milliseconds (got ${JSON.stringify(interval)})`, { option: 'checkpointIntervalMs' });
  }
  const format = inputFormatOf(o.input === '-' ? undefined : o.input, checkInputFormat(o.format));
  const fromFile = o.input !== '-';
  const seekable = fromFile && (await stat(o.input)).isFile();
  const { horizon, capacity } = predictor.options;
  const run: JobIdentity = {
    input: fromFile ? resolve(o.input) : '-',
    output: o.output === undefined ? null : resolve(o.output),
    format,
    horizon,
    capacity,
    onInvalid: o.onInvalid ?? 'report',
    withActual: o.withActual === true,
    interval: JSON.stringify(o.interval ?? null),
  };

  // --- restore -------------------------------------------------------------------------------------
  let store: CheckpointStore | null = null;
  let resumed: JobCheckpoint | null = null;
  let resumedFrom: PredictJobResult['resumedFrom'] = null;
  if (o.stateDir !== undefined) {
    store = await CheckpointStore.open({ dir: o.stateDir, key: 'predict', fingerprint: modelFingerprint(o.model) });
    const found = await store.read();
    for (const s of found?.skipped ?? []) log(`gru-stream: warning: checkpoint ${s.file} skipped (${s.reason}); falling back to ${found!.file}`);
    if (found) {
      resumed = decodeJobCheckpoint(found.payload, run, found.file);
      resumedFrom = { generation: found.generation, line: resumed.input?.line ?? null };
      const where = resumed.input ? `input line ${resumed.input.line} (byte ${resumed.input.offset})` : 'the input (samples at or below each series\' last seq are skipped)';
      log(`gru-stream: resuming from checkpoint ${found.file} (${found.writtenAt}): ${resumed.snapshot.series.length} series, ${where}${resumed.output ? `, output truncated to ${resumed.output.length} bytes` : ''}`);
    }
  }
  if (resumed) await predictor.importState(resumed.snapshot);
  if (o.onInvalidSample) predictor.on('invalid', o.onInvalidSample);
  const base: JobCounters = resumed?.counters ?? { samplesIn: 0, forecastsOut: 0, rejected: 0, duplicates: 0, evictions: 0, coldStarts: 0 };
  let coldStarts = base.coldStarts;
  const counters = (): JobCounters => {
    const s = predictor.stats();
    return { samplesIn: base.samplesIn + s.samplesIn, forecastsOut: base.forecastsOut + s.forecastsOut, rejected: base.rejected + s.rejected, duplicates: base.duplicates + s.duplicates, evictions: base.evictions + s.evicted, coldStarts };
  };

  const sink: OutputSink = o.output !== undefined ? await FileSink.open(o.output, resumed?.output?.length ?? null) : new StreamSink(o.stdout ?? process.stdout);

  // --- input ----------------------------------------------------------------------------------------
  const start = seekable && resumed?.input ? resumed.input : { offset: 0, line: 1 };
  const offsets = seekable && store ? new LineOffsets(start.line, start.offset) : null;
  let firstLine = start.line;
  let prefix: Buffer | null = null;
  if (format === 'csv' && start.offset > 0) {
    // The header tells which cells are which: it is read again, numbered so the next line is start.line.
    const header = await csvHeaderPrefix(o.input);
    prefix = header.bytes;
    firstLine = start.line - header.lines;
  }
  const source = fromFile ? Readable.from(readFrom(o.input, start.offset, prefix, offsets)) : (o.stdin ?? process.stdin);
  const parser = createInputParser({ path: o.input, format, columns: o.model.config.columns, rejections: 'inline', firstLine });
  const parsed = pipeline(source, parser).catch((err: Error) => err);

  // --- output pump -----------------------------------------------------------------------------------
  const line = recordFormatter({ omit: o.withActual ? [] : ['actual'] });
  let pumpWaiting = false;
  const pump = (): void => {
    if (pumpWaiting) return;
    for (let r = predictor.read(); r !== null; r = predictor.read()) {
      if (!sink.append(line(r))) {
        pumpWaiting = true;
        sink.drained().then(() => {
          pumpWaiting = false;
          pump();
        });
        return;
      }
    }
  };
  /** Every pushed record into the sink now, whatever its backpressure (a cut needs them all). */
  const readAll = (): void => {
    for (let r = predictor.read(); r !== null; r = predictor.read()) sink.append(line(r));
  };
  predictor.on('readable', pump);

  let failure: GruStreamError | null = null;
  let broken: Error | null = null;
  const wake = new Set<() => void>();
  const wakeAll = (): void => {
    for (const w of wake) w();
  };
  predictor.on('fatal', (err: GruStreamError) => {
    failure = err;
    readAll();
    wakeAll();
  });
  predictor.on('error', (err: Error) => {
    if (err !== failure) broken ??= err;
    wakeAll();
  });
  predictor.on('drain', wakeAll);
  const whenWritable = (): Promise<void> => new Promise((res) => {
    const done = (): void => {
      wake.delete(done);
      res();
    };
    wake.add(done);
  });

  const evicted = new Set<string>();
  predictor.on('evict', ({ series }: { series: string }) => {
    if (evicted.size < MAX_REMEMBERED_EVICTIONS) evicted.add(series);
  });

  // --- checkpoints -----------------------------------------------------------------------------------
  let due = false;
  let checkpoints = 0;
  const timer = store ? setInterval(() => (due = true), interval) : null;
  timer?.unref();
  /** The checkpoint being made durable, if any; at most one at a time. */
  let persisting: Promise<void> | null = null;
  /**
   * Capture a consistent cut, then make it durable in the background while processing goes on:
   * the output bytes it commits were all written before the fsync starts, and bytes appended
   * later lie beyond the committed length, which a resumed run truncates away. A crash before the
   * checkpoint's rename leaves the previous one in force. `wait` (the last cut) awaits it.
   */
  const cut = async (position: { offset: number; line: number } | null, wait: boolean): Promise<void> => {
    if (persisting && !wait) return; // still due: the next item tries again
    if (persisting) await persisting;
    due = false;
    // Settle: writes held by backpressure are released by reading, then stepped; repeat until none is left.
    for (;;) {
      readAll();
      await predictor.whenIdle();
      readAll();
      if (predictor.writableLength === 0 || failure || broken) break;
    }
    if (failure || broken) return;
    await sink.flush();
    const payload = encodeJobCheckpoint({ run, input: position, output: o.output !== undefined ? { length: sink.length } : null, counters: counters(), snapshot: await predictor.exportState() });
    if (position) offsets?.release(position.line);
    persisting = (async () => {
      await sink.sync();
      await store!.write(payload);
      checkpoints++;
    })().then(
      () => void (persisting = null),
      (err: Error) => {
        persisting = null;
        broken ??= err;
      },
    );
    if (wait) await persisting;
  };

  // --- the loop ----------------------------------------------------------------------------------------
  // Items are taken with parser.read() in a synchronous inner loop: an await per item (an async
  // iterator) cost about a tenth of predict's throughput. The loop awaits only when the parser is
  // empty, the predictor is full, or a checkpoint is cut.
  let interrupted = false;
  let parserEnded = false;
  let parseError: Error | null = null;
  const parserWake = new Set<() => void>();
  const wakeParser = (): void => {
    for (const w of parserWake) w();
  };
  parser.on('readable', wakeParser);
  parser.once('end', () => {
    parserEnded = true;
    wakeParser();
  });
  parser.once('error', (err: Error) => {
    parseError = err;
    wakeParser();
  });
  o.signal?.addEventListener('abort', wakeParser, { once: true });
  const parserReady = (): Promise<void> => new Promise((res) => {
    const done = (): void => {
      parserWake.delete(done);
      res();
    };
    parserWake.add(done);
  });
  /** Where the input stands before `item`: a checkpoint's position (null for a stream). */
  const positionBefore = (item: unknown): { offset: number; line: number } | null => {
    if (!offsets) return null;
    const at = lineOf(item);
    return at !== undefined ? { offset: offsets.startOf(at), line: at } : offsets.end();
  };
  try {
    outer: while (!(failure || broken || parseError)) {
      for (let item = parser.read() as unknown; item !== null; item = parser.read() as unknown) {
        if (o.signal?.aborted) {
          interrupted = true;
          if (store) await cut(positionBefore(item), true);
          break outer;
        }
        if (due) await cut(positionBefore(item), false);
        if (evicted.size > 0 && !isGruStreamError(item)) {
          const series = (item as { series?: unknown }).series;
          if (typeof series === 'string' && evicted.delete(series)) {
            coldStarts++;
            if (coldStarts === 1) log(`gru-stream: warning: series "${series}" was evicted (more series than --capacity ${capacity}) and restarts cold; evicted series forecast from a zero state until they warm up again`);
          }
        }
        if (!predictor.write(item) && !(failure || broken)) await whenWritable();
        if (failure || broken || sink.error) break outer;
      }
      if (parserEnded) {
        if (store) await cut(offsets ? offsets.end() : null, true);
        break;
      }
      if (o.signal?.aborted && !offsets) {
        // A quiet stream: everything read so far is applied. (A file goes on to its next item,
        // which comes at once: the parser may still hold bytes read past the last item.)
        interrupted = true;
        if (store) await cut(null, true);
        break;
      }
      await parserReady();
    }
  } finally {
    if (timer) clearInterval(timer);
  }
  if (parseError && !broken) broken = parseError;
  const abandon = async (err: Error): Promise<never> => {
    parser.destroy();
    predictor.destroy();
    await persisting;
    await sink.close().catch(() => undefined);
    throw err;
  };
  if (broken) return abandon(broken);

  // --- finish ------------------------------------------------------------------------------------------
  const stoppedEarly = failure !== null || interrupted || sink.error !== null;
  if (stoppedEarly) {
    parser.destroy();
    if (!predictor.destroyed && !failure) predictor.destroy();
  } else {
    const ended = once(predictor, 'end');
    predictor.end();
    await ended;
  }
  await parsed;
  readAll();
  if (persisting) await persisting;
  if (broken) return abandon(broken);
  if (!sink.error) {
    await sink.flush();
    if (store) await sink.sync();
  }
  await sink.close();
  if (failure && !predictor.destroyed) predictor.destroy();
  return { ...counters(), capacity, failure, interrupted, resumedFrom, checkpoints };
}
