/** One contiguous share of a batch: rows [start, start + count), stepped by compute thread `thread`. */
export interface Shard {
  thread: number;
  start: number;
  count: number;
  /** Sequence number of this shard's latest attempt (0 = none yet). */
  seq: number;
}

/** Weight of a fresh estimate in the running one: a few batches to adapt, one outlier does not swing it. */
const SMOOTHING = 0.3;

/** Shard boundaries fall on multiples of this: the native kernel steps rows in blocks of 4. */
const ROW_BLOCK = 4;

/**
 * Splits a batch between compute threads in proportion to how fast each has been measured to be,
 * so they finish together. A thread's speed is rows / (time from posting its shard to its result):
 * for a pool worker that includes its wake-up, which is what a fixed weight could not track (it
 * depends on whether the vCPU was parked, and on what else the machine runs).
 */
export class RowSplitter {
  /** Rows per millisecond, smoothed; starts at the prior. */
  private readonly rates: Float64Array;

  constructor(threads: number, prior: (thread: number) => number) {
    this.rates = Float64Array.from({ length: threads }, (_, t) => prior(t));
  }

  record(thread: number, rows: number, ms: number): void {
    // Too short to time at the clock's grain, or a clock step: learn nothing.
    if (rows < ROW_BLOCK || !(ms > 0.005)) return;
    this.rates[thread] += SMOOTHING * (rows / ms - this.rates[thread]);
  }

  rate(thread: number): number {
    return this.rates[thread];
  }

  /** Contiguous shards of `count` rows for `threads` (in that order); empty shards are dropped. */
  split(count: number, threads: readonly number[]): Shard[] {
    let total = 0;
    for (const t of threads) total += this.rates[t];
    const shards: Shard[] = [];
    let start = 0;
    let cumulative = 0;
    for (let i = 0; i < threads.length; i++) {
      cumulative += this.rates[threads[i]];
      const end = i === threads.length - 1 ? count : Math.min(count, Math.round((count * cumulative) / total / ROW_BLOCK) * ROW_BLOCK);
      if (end > start) shards.push({ thread: threads[i], start, count: end - start, seq: 0 });
      start = Math.max(start, end);
    }
    return shards;
  }
}
