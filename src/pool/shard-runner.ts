import { Piscina } from 'piscina';
import { ErrorCodes, OptionError, WorkerError } from '../errors.js';
import { type ArenaLayout, Control, type JobBuffers, STOP_SEQ, backupSlot, controlIndex, controlWords, copySlot, jobBuffers } from '../kernel/layout.js';
import type { KernelPreference } from '../kernel/select.js';
import { defaultKernelPreference } from '../kernel/select.js';
import type { PackedWeights } from '../model/pack-weights.js';
import { workerFile } from '../util/worker-file.js';
import { type PollChange, pollChange } from './poll-change.js';
import type { ResidentStart } from './resident-loop.js';
import { RowSplitter, type Shard } from './row-split.js';
import { ShardStepper } from './shard-stepper.js';

export interface ShardRunnerOptions {
  weights: PackedWeights;
  /** SharedArrayBuffer-backed state arena, laid out by arenaLayout. */
  arena: Float32Array;
  arenaLayout: ArenaLayout;
  /** piscina worker threads (0 = everything on the calling thread). */
  workers: number;
  /** The calling thread also computes one shard of every batch. */
  mainThread: boolean;
  /** Forecast steps per row (1 = next step only). */
  horizon: number;
  kernel?: KernelPreference;
  /** Attempts per shard before its rows are given up (a crashed worker is replaced by piscina). */
  attempts?: number;
  /** Test-only: make the first worker shard of the next batch exit half-way through. */
  injectFault?: () => boolean;
}

/** Shards below this many rows are not worth waking a worker for. */
const MIN_ROWS_PER_WORKER = 8;

/**
 * Starting guess of the main thread's speed relative to a worker's, until measurements replace it:
 * a worker's share also pays for its wake-up, which the main thread skips.
 */
const MAIN_PRIOR = 1.3;

/**
 * How long the main thread, done with its own shard (or in end()), waits synchronously for the
 * workers' results (polling, then Atomics.wait) before it gives up the thread and awaits them as a
 * promise: a worker that died never answers, and only the event loop can tell us so (piscina's exit
 * handling). Generous against the shard times it covers (a W2 shard is ~0.4 ms): a slow worker is
 * the usual case.
 */
const SYNC_WAIT_MS = 20;

/** Of which the first part is spent polling, yielding the CPU between looks (a worker's shard usually ends within it). */
const POLL_MS = 0.2;

/** A batch handed to the workers by ShardRunner.begin(), until its end(). */
export interface BegunBatch {
  shards: Shard[];
  slots: Int32Array;
  out: Float32Array;
}

/** One resident worker loop and what the dispatcher knows of it. */
interface Lane {
  thread: number;
  /** Settles when the loop's piscina task ends: undefined when stopped, the error when the worker died. */
  ended: Promise<unknown>;
  /** Set when `ended` settled: the loop is gone and must be restarted before the next job. */
  gone: boolean;
  /** When the current job was posted (timeOrigin + now, ms). */
  postedAt: number;
}

/**
 *   batch rows ──split by measured speed──► shard 0 ─► main thread (when mainThread)
 *                                           shard 1 ─► resident loop on worker 1 ┐ each shard: distinct
 *                                           shard 2 ─► resident loop on worker 2 ┘ series, stepped in place
 *
 * Workers are piscina threads, each running one long task: a resident loop (resident-loop.ts) that
 * waits on its jobSeq word in CONTROL (layout.ts). Dispatching a shard is a few stores and an
 * Atomics.notify; its rows travel in the shared JOB buffers; the result is a doneSeq store. No
 * message crosses a MessagePort per batch. With a main-thread shard, the main thread waits for the
 * workers synchronously (briefly) so a tick completes without an event-loop turn.
 *
 * One batch runs at a time; the caller guarantees a series appears at most once per batch, so no two
 * threads ever touch one series' slot at once and per-series order is the batch order. Every shard
 * is transactional: the thread that steps it first backs its states up (shard-stepper.ts). A shard
 * whose worker dies is restored and redone on the worker piscina starts in its place, so a redo
 * neither loses nor doubles a step; a batch that still fails is restored whole.
 */
export class ShardRunner {
  private readonly options: ShardRunnerOptions;
  private readonly local: ShardStepper | null;
  private readonly pool: Piscina | null;
  private readonly control: Int32Array;
  private readonly jobs: JobBuffers;
  private readonly lanes: Lane[];
  private readonly splitter: RowSplitter;
  private readonly attempts: number;
  private readonly inputSize: number;
  private readonly rowOut: number;
  private readonly poll: PollChange = pollChange();
  private seq = 0;
  private closing = false;
  /** Worker failures seen (piscina replaces a worker that exits). */
  crashes = 0;

  private constructor(options: ShardRunnerOptions) {
    this.options = options;
    const { weights, arena, arenaLayout, workers, mainThread, horizon } = options;
    const kernel = options.kernel ?? defaultKernelPreference();
    this.control = controlWords(arenaLayout.threads);
    this.jobs = jobBuffers(weights.layout.shape, arenaLayout, horizon);
    const init = { weights, arena, arenaLayout, control: this.control, jobs: this.jobs, horizon, kernel };
    this.local = workers === 0 || mainThread ? new ShardStepper(init) : null;
    this.pool = workers > 0
      ? new Piscina({
        filename: workerFile('gru-worker'),
        workerData: init,
        minThreads: workers,
        maxThreads: workers,
        concurrentTasksPerWorker: 1,
        idleTimeout: Number.POSITIVE_INFINITY,
      })
      : null;
    // Compute thread 0 is the main thread when it steps a shard; workers take the following ones.
    const first = this.local ? 1 : 0;
    this.lanes = Array.from({ length: workers }, (_, i) => ({ thread: first + i, ended: Promise.resolve(), gone: true, postedAt: 0 }));
    this.splitter = new RowSplitter(first + workers, (t) => (this.local && t === 0 ? MAIN_PRIOR : 1));
    this.attempts = options.attempts ?? 3;
    this.inputSize = weights.layout.shape.inputSize;
    this.rowOut = horizon * weights.layout.shape.outputSize;
  }

  static async create(options: ShardRunnerOptions): Promise<ShardRunner> {
    if (!Number.isInteger(options.workers) || options.workers < 0) throw new OptionError('options.workers must be a whole number >= 0', { option: 'workers' });
    const threads = options.workers + (options.mainThread || options.workers === 0 ? 1 : 0);
    if (options.arenaLayout.threads < threads) {
      throw new OptionError(`arena has scratch for ${options.arenaLayout.threads} threads, ${threads} needed`, { option: 'arenaLayout.threads' });
    }
    const runner = new ShardRunner(options);
    // Start every loop now so the first batch does not pay for thread start-up and module loading.
    await Promise.all(runner.lanes.map((lane) => runner.start(lane)));
    return runner;
  }

  /** (Re)start a lane's resident loop; resolves once it runs, rejects if its worker dies first. */
  private async start(lane: Lane): Promise<void> {
    if (this.closing) throw new WorkerError(ErrorCodes.ERR_WORKER, 'the pool is closing');
    const ready = controlIndex(lane.thread, Control.ready);
    Atomics.store(this.control, ready, 0);
    const begin: ResidentStart = { thread: lane.thread, seen: Atomics.load(this.control, controlIndex(lane.thread, Control.jobSeq)) };
    lane.gone = false;
    lane.ended = this.pool!.run(begin).then(
      () => undefined,
      (err: unknown) => err ?? new Error('worker failed'),
    );
    lane.ended.then(() => {
      lane.gone = true;
      // A loop returns only when told to stop; ending any other way (piscina rejects the task when its
      // worker exits, but a worker killed at the wrong moment may settle it otherwise) is a crash.
      if (!this.closing) this.crashes++;
      // Wake any waitAsync still parked on this lane so it sees the loop has gone.
      Atomics.notify(this.control, controlIndex(lane.thread, Control.doneSeq));
      Atomics.notify(this.control, ready);
    });
    while (Atomics.load(this.control, ready) === 0) {
      const w = Atomics.waitAsync(this.control, ready, 0);
      if (w.async) await w.value;
      if (lane.gone && Atomics.load(this.control, ready) === 0) throw new WorkerError(ErrorCodes.ERR_WORKER, `a worker failed to start: ${String(await lane.ended)}`);
    }
  }

  /**
   * Step `count` distinct slots one step; out receives [count][horizon][outputSize].
   * Returns undefined when the batch completed synchronously (stepped on this thread, or sharded and
   * every worker answered while this thread waited), else a promise of the sharded step.
   */
  run(count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): Promise<void> | undefined {
    const threads = this.lanes.length + (this.local ? 1 : 0);
    const shardCount = Math.max(1, Math.min(threads, Math.floor(count / MIN_ROWS_PER_WORKER)));
    // Step here, with no backup, since no worker can fail it.
    if (this.local && (this.lanes.length === 0 || shardCount === 1)) {
      this.local.run(0, count, slots, inputs, out);
      return undefined;
    }
    const order = this.local ? [0, ...this.lanes.slice(0, shardCount - 1).map((l) => l.thread)] : this.lanes.slice(0, shardCount).map((l) => l.thread);
    const { shards, remote } = this.dispatch(count, order, slots, inputs);
    if (remote.length < shards.length) {
      const mine = shards[0];
      const { start, count: n } = mine;
      mine.seq = this.nextSeq();
      const I = this.inputSize;
      const rowOut = this.rowOut;
      const t0 = performance.now();
      this.local!.run(0, n, slots.subarray(start, start + n), inputs.subarray(start * I, (start + n) * I), out.subarray(start * rowOut, (start + n) * rowOut), mine.seq);
      this.splitter.record(0, n, performance.now() - t0);
      if (remote.every((sh) => sh.seq !== 0) && this.waitSync(remote)) {
        this.collect(remote, out);
        return undefined;
      }
    }
    return this.finish(shards, remote, slots, out);
  }

  /**
   * run() in two halves, for a caller with its own work to do while the workers step: begin() hands
   * the batch to the workers and returns at once, end() waits for it (synchronously while it can,
   * as run() does with a main-thread shard). Null when the batch is not for the workers alone (no
   * pool, or the main thread steps a shard): run() it instead. One batch at a time: nothing else may
   * run on this runner between begin() and end(), and slots and out must stay untouched.
   */
  begin(count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): BegunBatch | null {
    if (this.local) return null;
    const shardCount = Math.max(1, Math.min(this.lanes.length, Math.floor(count / MIN_ROWS_PER_WORKER)));
    const { shards } = this.dispatch(count, this.lanes.slice(0, shardCount).map((l) => l.thread), slots, inputs);
    return { shards, slots, out };
  }

  /** Split rows over threads `order` by measured speed; stage and post every shard not the main thread's. */
  private dispatch(count: number, order: number[], slots: Int32Array, inputs: Float32Array): { shards: Shard[]; remote: Shard[] } {
    const shards = this.splitter.split(count, order);
    const remote = this.local && shards[0].thread === 0 ? shards.slice(1) : shards;
    this.stage(remote, slots, inputs);
    // A lane whose worker died while idle is restarted by complete(), which posts its shard then.
    for (const shard of remote) if (!this.lane(shard).gone) this.post(shard, this.options.injectFault?.() === true);
    return { shards, remote };
  }

  /** The end of a begun batch: undefined when it completed here, else a promise (a slow or failed worker). */
  end(batch: BegunBatch): Promise<void> | undefined {
    const { shards, slots, out } = batch;
    if (shards.every((sh) => sh.seq !== 0) && this.waitSync(shards)) {
      this.collect(shards, out);
      return undefined;
    }
    return this.finish(shards, shards, slots, out);
  }

  private lane(shard: Shard): Lane {
    return this.lanes[shard.thread - (this.local ? 1 : 0)];
  }

  /** Copy the remote shards' rows into the JOB buffers (callers may pass those buffers themselves). */
  private stage(remote: Shard[], slots: Int32Array, inputs: Float32Array): void {
    const { jobs } = this;
    const I = this.inputSize;
    for (const { start, count } of remote) {
      if (slots !== jobs.slots) jobs.slots.set(slots.subarray(start, start + count), start);
      if (inputs !== jobs.inputs) jobs.inputs.set(inputs.subarray(start * I, (start + count) * I), start * I);
    }
  }

  /** Hand a shard to its lane's resident loop (a new attempt, with a new seq). */
  private post(shard: Shard, fault: boolean): void {
    const { control } = this;
    const t = shard.thread;
    shard.seq = this.nextSeq();
    control[controlIndex(t, Control.jobStart)] = shard.start;
    control[controlIndex(t, Control.jobCount)] = shard.count;
    control[controlIndex(t, Control.jobFault)] = fault ? 1 : 0;
    this.lane(shard).postedAt = performance.timeOrigin + performance.now();
    // The seq store publishes the plain stores above (see CONTROL in layout.ts).
    Atomics.store(control, controlIndex(t, Control.jobSeq), shard.seq);
    if (Atomics.load(control, controlIndex(t, Control.parked)) === 1) Atomics.notify(control, controlIndex(t, Control.jobSeq));
  }

  private isDone(shard: Shard): boolean {
    return Atomics.load(this.control, controlIndex(shard.thread, Control.doneSeq)) === shard.seq;
  }

  /** Poll briefly, then Atomics.wait, until every remote shard is done or SYNC_WAIT_MS passes. */
  private waitSync(remote: Shard[]): boolean {
    const start = performance.now();
    for (const shard of remote) {
      const at = controlIndex(shard.thread, Control.doneSeq);
      for (;;) {
        const v = Atomics.load(this.control, at);
        if (v === shard.seq) break;
        const waited = performance.now() - start;
        if (waited >= SYNC_WAIT_MS) return false;
        // Sleeping costs a wake-up (tens of µs here); worth it only once the wait looks long.
        if (waited < POLL_MS) this.poll(this.control, at, v, POLL_MS - waited);
        else Atomics.wait(this.control, at, v, Math.min(SYNC_WAIT_MS - waited, 1));
      }
    }
    return true;
  }

  /** Copy remote results into out and learn each worker's speed. */
  private collect(remote: Shard[], out: Float32Array): void {
    const { jobs } = this;
    const rowOut = this.rowOut;
    for (const shard of remote) {
      const { start, count } = shard;
      if (out !== jobs.out) out.set(jobs.out.subarray(start * rowOut, (start + count) * rowOut), start * rowOut);
      this.splitter.record(shard.thread, count, jobs.doneAt[shard.thread] - this.lane(shard).postedAt);
    }
  }

  /** The asynchronous end of a batch: await every remote shard, redoing those whose worker died. */
  private async finish(shards: Shard[], remote: Shard[], slots: Int32Array, out: Float32Array): Promise<void> {
    const results = await Promise.allSettled(remote.map((shard) => this.complete(shard, slots)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // All or nothing: the batch is reported failed, so no shard of it may stay advanced.
      for (const shard of shards) this.restore(shard, slots);
      throw failed.reason;
    }
    this.collect(remote, out);
  }

  /** Wait for one remote shard; if its worker dies, roll it back and redo it on the replacement. */
  private async complete(shard: Shard, slots: Int32Array): Promise<void> {
    const lane = this.lane(shard);
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1 || shard.seq === 0 || lane.gone) {
        if (lane.gone) {
          try {
            await this.start(lane);
          } catch (err) {
            lastError = err;
            continue;
          }
        }
        if (shard.seq !== 0 && this.isDone(shard)) return;
        this.post(shard, attempt === 1 && this.options.injectFault?.() === true);
      }
      if (await this.done(shard, lane)) return;
      lastError = (await lane.ended) ?? new Error('the worker ended its loop without finishing the shard');
      // The worker is gone and may have written part of the shard: put back what it backed up, then
      // redo the whole shard. Nothing was emitted for these rows yet.
      this.restore(shard, slots);
    }
    throw new WorkerError(ErrorCodes.ERR_WORKER, `a worker failed ${this.attempts} times on a shard of ${shard.count} series: ${(lastError as Error)?.message ?? String(lastError)}`);
  }

  /** Resolves true once the shard's doneSeq appears, false if its loop ended first. */
  private async done(shard: Shard, lane: Lane): Promise<boolean> {
    const at = controlIndex(shard.thread, Control.doneSeq);
    for (;;) {
      // Wait on the very value that was checked: loading it a second time for waitAsync would lose a
      // doneSeq stored (and notified) between the two loads, and the wait would never end.
      const seen = Atomics.load(this.control, at);
      if (seen === shard.seq) return true;
      if (lane.gone) return this.isDone(shard);
      const w = Atomics.waitAsync(this.control, at, seen);
      if (w.async) await w.value;
    }
  }

  private nextSeq(): number {
    this.seq = (this.seq % 0x7fffffff) + 1; // never 0 ("none") nor negative (STOP_SEQ)
    return this.seq;
  }

  /**
   * Put a shard's states back from its thread's backup slots, if that thread completed the backup
   * of the shard's latest attempt. If it did not, it died before writing any live slot: nothing to undo.
   * (The thread is dead or finished when this runs, so the backup cannot change underneath.)
   */
  private restore(shard: Shard, slots: Int32Array): void {
    if (shard.seq === 0 || Atomics.load(this.control, controlIndex(shard.thread, Control.backupSeq)) !== shard.seq) return;
    const { arena, arenaLayout } = this.options;
    const base = backupSlot(arenaLayout, shard.thread);
    for (let b = 0; b < shard.count; b++) copySlot(arena, arenaLayout, base + b, slots[shard.start + b]);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const lane of this.lanes) {
      const at = controlIndex(lane.thread, Control.jobSeq);
      Atomics.store(this.control, at, STOP_SEQ);
      Atomics.notify(this.control, at);
    }
    await Promise.all(this.lanes.map((lane) => lane.ended));
    await this.pool?.destroy();
  }
}
