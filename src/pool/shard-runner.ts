import { Piscina } from 'piscina';
import { ErrorCodes, OptionError, WorkerError } from '../errors.js';
import type { ArenaLayout } from '../kernel/layout.js';
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
 *   batch rows ──split──► shard 0 ─► main thread (when mainThread)
 *                         shard 1 ─► piscina worker ┐  each shard: distinct series,
 *                         shard 2 ─► piscina worker ┘  states stepped in place in the arena
 *
 * One batch runs at a time; the caller guarantees a series appears at most once per batch, so
 * no two threads ever touch one series' slot at once and per-series order is the batch order.
 * Worker shards are transactional: their slots are copied before dispatch and restored if the
 * worker dies, so a redo neither loses nor doubles a step.
 */
export class ShardRunner {
  private readonly options: ShardRunnerOptions;
  private readonly local: ShardStepper | null;
  private readonly pool: Piscina | null;
  private readonly backup: Float32Array;
  private readonly attempts: number;
  private readonly outputSize: number;
  private readonly inputSize: number;
  /** Worker respawns seen (piscina replaces a worker that exits). */
  crashes = 0;

  private constructor(options: ShardRunnerOptions) {
    this.options = options;
    const { weights, arena, arenaLayout, workers, mainThread, horizon } = options;
    const kernel = options.kernel ?? defaultKernelPreference();
    const init = { weights, arena, arenaLayout, horizon, kernel };
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
    this.backup = new Float32Array(workers > 0 ? arenaLayout.maxBatch * arenaLayout.slotStride : 0);
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
      await Promise.all(Array.from({ length: options.workers }, () => runner.pool!.run({ thread: 0, count: 0, slots: new Int32Array(0), inputs: new Float32Array(0) } satisfies ShardTask)));
    }
    return runner;
  }

  get threads(): number {
    return (this.pool ? this.options.workers : 0) + (this.local ? 1 : 0);
  }

  /** Step `count` distinct slots one step; out receives [count][horizon][outputSize]. */
  async run(count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): Promise<void> {
    const { workers, mainThread, horizon } = this.options;
    if (!this.pool || count < 2 * MIN_ROWS_PER_WORKER) {
      if (this.local) return this.local.run(0, count, slots, inputs, out);
    }
    this.saveRows(slots, 0, count);
    const shards = Math.max(1, Math.min(workers + (this.local ? 1 : 0), Math.floor(count / MIN_ROWS_PER_WORKER)));
    const size = Math.ceil(count / shards);
    const I = this.inputSize;
    const rowOut = horizon * this.outputSize;
    const jobs: Promise<void>[] = [];
    let localShard: [number, number] | null = null;
    for (let s = 0, start = 0; start < count; s++, start += size) {
      const end = Math.min(count, start + size);
      if (s === 0 && this.local) {
        localShard = [start, end];
        continue;
      }
      const task: ShardTask = { thread: s, count: end - start, slots: slots.slice(start, end), inputs: inputs.slice(start * I, end * I) };
      jobs.push(this.runRemote(task, slots, start).then((result) => out.set(result.subarray(0, task.count * rowOut), start * rowOut)));
    }
    if (localShard) {
      const [start, end] = localShard;
      this.local!.run(0, end - start, slots.subarray(start, end), inputs.subarray(start * I, end * I), out.subarray(start * rowOut, end * rowOut));
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // All or nothing: the batch is reported failed, so no row of it may stay advanced.
      this.restoreRows(slots, 0, count);
      throw failed.reason;
    }
  }

  /** Copy the states of slots[from, from+n) to the backup rows of the same index. */
  private saveRows(slots: Int32Array, from: number, n: number): void {
    const { arena, arenaLayout } = this.options;
    const stride = arenaLayout.slotStride;
    for (let b = from; b < from + n; b++) this.backup.set(arena.subarray(slots[b] * stride, slots[b] * stride + stride), b * stride);
  }

  private restoreRows(slots: Int32Array, from: number, n: number): void {
    const { arena, arenaLayout } = this.options;
    const stride = arenaLayout.slotStride;
    for (let b = from; b < from + n; b++) arena.set(this.backup.subarray(b * stride, (b + 1) * stride), slots[b] * stride);
  }

  /** Run one shard on a worker, rolling its slots back and retrying if the worker dies. */
  private async runRemote(task: ShardTask, slots: Int32Array, start: number): Promise<Float32Array> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const fault = attempt === 1 && this.options.injectFault?.() ? 'exit-mid-batch' : undefined;
      try {
        return (await this.pool!.run(fault ? { ...task, fault } : task)) as Float32Array;
      } catch (err) {
        lastError = err;
        this.crashes++;
        // The worker is gone (or threw) and may have written part of the shard: restore every slot
        // to its pre-batch state, then redo the whole shard. Nothing was emitted for these rows yet.
        this.restoreRows(slots, start, task.count);
      }
    }
    throw new WorkerError(ErrorCodes.ERR_WORKER, `a worker failed ${this.attempts} times on a shard of ${task.count} series: ${(lastError as Error)?.message ?? String(lastError)}`);
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
