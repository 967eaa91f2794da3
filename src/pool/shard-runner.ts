import { Piscina } from 'piscina';
import { ErrorCodes, OptionError, WorkerError } from '../errors.js';
import { type ArenaLayout, backupSlot, controlWords, copySlot } from '../kernel/layout.js';
import type { PackedWeights } from '../kernel/pack-weights.js';
import type { KernelPreference } from '../kernel/select.js';
import { defaultKernelPreference } from '../kernel/select.js';
import { packagePath } from '../util/package-root.js';
import { ShardStepper } from './shard-stepper.js';
import type { ShardTask } from './shard-task.js';

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
  /** Test-only: make the first worker task of the next batch exit half-way through. */
  injectFault?: () => boolean;
}

/** Shards below this many rows are not worth a message round trip to a worker. */
const MIN_ROWS_PER_WORKER = 8;

/**
 * Size of the main thread's shard relative to a worker's (see split()). 1.3 came out slightly ahead
 * of 1.0 and 1.5 for W2 at two threads, on a noisy shared machine: a judgement, not a fit.
 */
const MAIN_SHARD_WEIGHT = 1.3;

/** One contiguous share of a batch: rows [start, start + count), stepped by compute thread `thread`. */
interface Shard {
  thread: number;
  start: number;
  count: number;
  /** backupSeq of this shard's latest attempt (CONTROL word `thread` equals it once backed up). */
  seq: number;
}

/**
 *   batch rows ──split──► shard 0 ─► main thread (when mainThread)
 *                         shard 1 ─► piscina worker ┐  each shard: distinct series,
 *                         shard 2 ─► piscina worker ┘  states stepped in place in the arena
 *
 * One batch runs at a time; the caller guarantees a series appears at most once per batch, so
 * no two threads ever touch one series' slot at once and per-series order is the batch order.
 * With a pool, every shard is transactional: the thread that steps it first backs its states up
 * (shard-stepper.ts, CONTROL in layout.ts). A shard whose worker dies is restored and redone, so a
 * redo neither loses nor doubles a step; a batch that still fails is restored whole.
 */
export class ShardRunner {
  private readonly options: ShardRunnerOptions;
  private readonly local: ShardStepper | null;
  private readonly pool: Piscina | null;
  private readonly control: Int32Array;
  private readonly attempts: number;
  private readonly outputSize: number;
  private readonly inputSize: number;
  private seq = 0;
  /** Worker failures seen (piscina replaces a worker that exits). */
  crashes = 0;

  private constructor(options: ShardRunnerOptions) {
    this.options = options;
    const { weights, arena, arenaLayout, workers, mainThread, horizon } = options;
    const kernel = options.kernel ?? defaultKernelPreference();
    this.control = controlWords(arenaLayout.threads);
    const init = { weights, arena, arenaLayout, control: this.control, horizon, kernel };
    this.local = workers === 0 || mainThread ? new ShardStepper(init) : null;
    this.pool = workers > 0
      ? new Piscina({
        filename: packagePath('dist/workers/gru-worker.js'),
        workerData: init,
        minThreads: workers,
        maxThreads: workers,
        concurrentTasksPerWorker: 1,
        idleTimeout: Number.POSITIVE_INFINITY,
      })
      : null;
    this.attempts = options.attempts ?? 3;
    this.outputSize = weights.layout.shape.outputSize;
    this.inputSize = weights.layout.shape.inputSize;
  }

  static async create(options: ShardRunnerOptions): Promise<ShardRunner> {
    if (!Number.isInteger(options.workers) || options.workers < 0) throw new OptionError('options.workers must be a whole number >= 0', { option: 'workers' });
    const threads = options.workers + (options.mainThread || options.workers === 0 ? 1 : 0);
    if (options.arenaLayout.threads < threads) {
      throw new OptionError(`arena has scratch for ${options.arenaLayout.threads} threads, ${threads} needed`, { option: 'arenaLayout.threads' });
    }
    const runner = new ShardRunner(options);
    if (runner.pool) {
      // Start every worker now so the first batch does not pay for thread start-up and module loading.
      const empty: ShardTask = { thread: 0, seq: 0, count: 0, slots: new Int32Array(0), inputs: new Float32Array(0) };
      await Promise.all(Array.from({ length: options.workers }, () => runner.pool!.run(empty)));
    }
    return runner;
  }

  /**
   * Step `count` distinct slots one step; out receives [count][horizon][outputSize].
   * Returns undefined when the batch was stepped synchronously on this thread (no pool, or too small
   * to share: an await would cost more than a one-series step), else a promise of the sharded step.
   */
  run(count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): Promise<void> | undefined {
    const threads = this.options.workers + (this.local ? 1 : 0);
    const shardCount = Math.max(1, Math.min(threads, Math.floor(count / MIN_ROWS_PER_WORKER)));
    // Step here, with no backup, since no worker can fail it.
    if (this.local && (!this.pool || shardCount === 1)) {
      this.local.run(0, count, slots, inputs, out);
      return undefined;
    }
    return this.runSharded(count, shardCount, slots, inputs, out);
  }

  private async runSharded(count: number, shardCount: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): Promise<void> {
    const { horizon } = this.options;
    const I = this.inputSize;
    const rowOut = horizon * this.outputSize;
    const shards = this.split(count, shardCount);
    // With a main-thread stepper, shard 0 stays here; the others go to workers (all of them if not).
    const remote = this.local && shards.length > 1 ? shards.slice(1) : this.local ? [] : shards;
    const jobs = remote.map((shard) => this.runRemote(shard, slots, inputs).then((result) => out.set(result.subarray(0, shard.count * rowOut), shard.start * rowOut)));
    if (this.local && remote.length < shards.length) {
      const [{ start, count: n }] = shards;
      shards[0].seq = this.nextSeq();
      this.local.run(0, n, slots.subarray(start, start + n), inputs.subarray(start * I, (start + n) * I), out.subarray(start * rowOut, (start + n) * rowOut), shards[0].seq);
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // All or nothing: the batch is reported failed, so no shard of it may stay advanced.
      for (const shard of shards) this.restore(shard, slots);
      throw failed.reason;
    }
  }

  /**
   * Contiguous shards, one per thread. The main thread's shard is larger: a worker's share also pays
   * for the task message, its wake-up from Atomics.wait and the reply, all of which the main thread
   * skips (measured on W2: a worker steps the same rows about a third slower, end to end).
   */
  private split(count: number, shardCount: number): Shard[] {
    const mainWeight = this.local && shardCount > 1 ? MAIN_SHARD_WEIGHT : 1;
    const unit = count / (shardCount - 1 + mainWeight);
    const shards: Shard[] = [];
    let start = 0;
    for (let s = 0; s < shardCount; s++) {
      const end = s === shardCount - 1 ? count : Math.min(count, Math.round(start + unit * (s === 0 ? mainWeight : 1)));
      shards.push({ thread: s, start, count: end - start, seq: 0 });
      start = end;
    }
    return shards.filter((sh) => sh.count > 0);
  }

  private nextSeq(): number {
    this.seq = (this.seq % 0x7fffffff) + 1; // never 0, the "no backup" value
    return this.seq;
  }

  /** Run one shard on a worker, rolling it back and retrying if the worker dies. */
  private async runRemote(shard: Shard, slots: Int32Array, inputs: Float32Array): Promise<Float32Array> {
    const I = this.inputSize;
    const base = { thread: shard.thread, count: shard.count, slots: slots.slice(shard.start, shard.start + shard.count), inputs: inputs.slice(shard.start * I, (shard.start + shard.count) * I) };
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      shard.seq = this.nextSeq();
      const fault = attempt === 1 && this.options.injectFault?.() ? 'exit-mid-batch' : undefined;
      try {
        return (await this.pool!.run({ ...base, seq: shard.seq, ...(fault ? { fault } : {}) } satisfies ShardTask)) as Float32Array;
      } catch (err) {
        lastError = err;
        this.crashes++;
        // The worker is gone (or threw) and may have written part of the shard: put back what it
        // backed up, then redo the whole shard. Nothing was emitted for these rows yet.
        this.restore(shard, slots);
      }
    }
    throw new WorkerError(ErrorCodes.ERR_WORKER, `a worker failed ${this.attempts} times on a shard of ${shard.count} series: ${(lastError as Error)?.message ?? String(lastError)}`);
  }

  /**
   * Put a shard's states back from its thread's backup slots, if that thread completed the backup
   * of the shard's latest attempt. If it did not, it died before writing any live slot: nothing to undo.
   * (The thread is dead or finished when this runs, so the backup cannot change underneath.)
   */
  private restore(shard: Shard, slots: Int32Array): void {
    if (shard.seq === 0 || Atomics.load(this.control, shard.thread) !== shard.seq) return;
    const { arena, arenaLayout } = this.options;
    const base = backupSlot(arenaLayout, shard.thread);
    for (let b = 0; b < shard.count; b++) copySlot(arena, arenaLayout, base + b, slots[shard.start + b]);
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
