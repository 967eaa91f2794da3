import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { ErrorCodes, InputError } from '../errors.js';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInputParser } from '../stream/open-input.js';
import { type InputSource, type SourceSink, sourceHandle } from './input.js';

/**
 * `--replay CSV --rate N`: the CSV's rows are written to the predictor at N samples per second.
 *
 * The schedule is absolute: row k is due at t0 + k / rate, and each wait is computed from the
 * clock, never accumulated, so timer lateness does not add up into drift (a late timer only makes
 * the next wait shorter; rows already due are written at once). When the predictor pushes back,
 * the replay waits for 'drain' and then moves t0 forward by the time lost: a stall slows the
 * replay down, it is not made up afterwards with a burst.
 *
 * With `loop`, every series seen in a pass is reset (fresh GRU state, accuracy and history, as at
 * the first row) before the next pass starts, so each pass is the same experiment again.
 */
export interface ReplayOptions extends SourceSink {
  path: string;
  rate: number;
  loop: boolean;
  columns: readonly string[];
  series: string | undefined;
  /** Forget a series between passes; resolves once the predictor has pushed everything before it. */
  resetSeries: (series: string) => Promise<void>;
  /** The schedule's clock; tests pass a virtual one to check the schedule exactly. Default: real time. */
  clock?: ReplayClock;
}

export interface ReplayClock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const realClock: ReplayClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

/** Resolves `done` when a non-looping replay reaches the end (or when stopped). */
export type ReplaySource = InputSource;

export function startReplay(options: ReplayOptions): ReplaySource {
  const period = 1000 / options.rate;
  const { gate } = options;
  const clock = options.clock ?? realClock;

  async function pass(seen: Set<string>, signal: AbortSignal): Promise<void> {
    let t0 = clock.now();
    let k = 0;
    const parser = createInputParser({ path: options.path, format: 'csv', columns: options.columns, series: options.series });
    parser.on('invalid', options.onInvalid);
    await pipeline(createReadStream(options.path), parser, async (rows: AsyncIterable<{ series: string }>) => {
      for await (const row of rows) {
        const wait = t0 + k * period - clock.now();
        // Below a millisecond a timer cannot help; the row is due, write it now.
        if (wait >= 1) await clock.sleep(wait, signal);
        if (signal.aborted || gate.isClosed) return;
        seen.add(row.series);
        options.onSample();
        k++;
        if (!gate.write(row)) {
          await gate.drained();
          const late = clock.now() - (t0 + k * period);
          if (late > 0) t0 += late;
        }
      }
    }, { signal });
  }

  return sourceHandle(async (signal) => {
    do {
      const seen = new Set<string>();
      await pass(seen, signal);
      if (!options.loop || signal.aborted) return;
      for (const series of seen) await options.resetSeries(series);
    } while (!signal.aborted);
  });
}

/**
 * Refuses, before the server starts, a replay file that cannot be used: an empty one
 * (ERR_INPUT_IO), or one whose header lacks the model's columns or cannot be parsed (ERR_PARSE).
 * Found later, these would leave a server up that replays nothing.
 */
export async function checkReplayFile(path: string, columns: readonly string[]): Promise<void> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(1 << 16);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  // The header is the first non-blank line.
  let at = 0;
  for (;;) {
    const nl = head.indexOf(10, at);
    const line = head.subarray(at, nl === -1 ? head.length : nl).toString('utf8').replace(/^\uFEFF/, '');
    if (line.trim() !== '') {
      head = head.subarray(0, nl === -1 ? head.length : nl + 1);
      break;
    }
    if (nl === -1) throw new InputError(ErrorCodes.ERR_INPUT_IO, `--replay ${path}: the file has no CSV header (empty)`, { path });
    at = nl + 1;
  }
  const parser = createInputParser({ path, format: 'csv', columns });
  try {
    await new Promise<void>((resolve, reject) => {
      parser.on('error', reject);
      parser.on('data', () => undefined);
      parser.on('end', resolve);
      parser.end(head);
    });
  } catch (err) {
    if (err instanceof InputError) throw new InputError(err.code, `--replay ${path}: ${err.message}`, { ...err.details, path });
    throw err;
  }
}
