import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { NdjsonRows, type StartedRound } from '../stream/ndjson-rows.js';
import type { InputPosition } from './job-checkpointer.js';
import type { LoopContext, LoopOutcome } from './loop-context.js';

/**
 * The job's loop for NDJSON input (without prediction intervals), pipelined by rounds. With a
 * worker pool, round k+1 is admitted while round k's last batch steps, then left stepping on the
 * worker while round k is printed, the next input read and round k+2 scanned and checked
 * (NdjsonRows.start/finish). Without one, each round steps within start(). The input is pulled only
 * as fast as the output drains. At the top of each turn, once the round in flight is finished,
 * every line before NdjsonRows.nextLine is applied and in the sink: a checkpoint's cut needs no
 * settling.
 *
 *   chunk ─▶ feed ─▶ nextRound (scan, check) ─▶ start(k+1) ─▶ finish(k) ─▶ sink ─▶ …
 *                                               └─ steps on the worker meanwhile ─┘
 */
/** Resolves true after the event loop's next turn (I/O callbacks included). */
const nextTurn = (): Promise<boolean> => new Promise((resolve) => setImmediate(resolve, true));

export async function runRowLoop(ctx: LoopContext, source: Readable): Promise<LoopOutcome> {
  const { predictor, sink, offsets, checkpointer: cp, signal } = ctx;
  const rows = new NdjsonRows(predictor, { withActual: ctx.withActual, firstLine: ctx.firstLine, onSeries: ctx.onSeries });
  let broken: Error | null = null;
  let interrupted = false;
  /** The round started last: its samples may still step on a worker; its records are not in the sink yet. */
  let inFlight: StartedRound | null = null;
  /** Finishes the round in flight and puts its text into the sink (waiting for the sink to drain). */
  const settle = async (): Promise<boolean> => {
    if (inFlight) {
      const started = inFlight;
      inFlight = null;
      if (!sink.append(await rows.finish(started))) await sink.drained();
    }
    return !(rows.failure || broken);
  };
  /** The first line not applied: a resume point (its start is held by offsets: it was read). */
  const position = (): InputPosition => (offsets ? { offset: offsets.startOf(rows.nextLine), line: rows.nextLine } : null);
  const cut = async (at: () => InputPosition, wait: boolean): Promise<void> => {
    await settle();
    await cp!.cut(at(), wait, settle);
    broken ??= cp!.error;
  };
  const runRounds = async (): Promise<void> => {
    for (let round = rows.nextRound(); round !== null; round = rows.nextRound()) {
      // Round k+1 goes to the worker before round k is printed, so printing overlaps its stepping.
      const started = await rows.start(round);
      await settle();
      inFlight = started;
    }
  };
  // An abort must also end a wait on a quiet stream (stdin with nothing coming).
  const aborted = signal ? new Promise<'abort'>((res) => (signal.aborted ? res('abort') : signal.addEventListener('abort', () => res('abort'), { once: true }))) : null;
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  try {
    for (;;) {
      const pending = chunks.next();
      // A chunk already buffered comes before the next turn of the event loop; one that has to be
      // read may be long in coming, so the round in flight is printed first, not held back for it.
      if (inFlight && (await Promise.race([pending.then(() => false, () => false), nextTurn()]))) await settle();
      const next = aborted ? await Promise.race([pending, aborted]) : await pending;
      if (next === 'abort') {
        interrupted = true;
        if (cp) await cut(position, true);
        break;
      }
      if (next.done) {
        rows.end();
        await runRounds();
        await settle();
        if (cp && !rows.failure) await cut(() => (offsets ? offsets.end() : null), true);
        break;
      }
      if (cp?.due) await cut(position, false);
      // A stream may yield strings (Readable.from(text), or stdin given an encoding).
      rows.feed(typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value);
      await runRounds();
      if (rows.failure || broken || sink.error) break;
    }
    await settle();
  } catch (err) {
    broken ??= err as Error;
  }
  const failure = rows.failure;
  if (broken || failure || interrupted || sink.error) {
    source.destroy();
    if (!broken && !predictor.destroyed) predictor.destroy();
    return { failure, interrupted, broken };
  }
  const ended = once(predictor, 'end');
  predictor.end();
  predictor.resume();
  await ended;
  return { failure, interrupted, broken };
}
