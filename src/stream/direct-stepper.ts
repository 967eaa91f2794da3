import type { Normaliser } from '../model/normaliser.js';
import type { BegunBatch, ShardRunner } from '../pool/shard-runner.js';
import type { SeriesState } from '../state/series-state.js';
import { Batch } from './batch.js';

/** What the direct paths need from their predictor. */
export interface DirectContext {
  state: SeriesState;
  normaliser: Normaliser;
  runner: Promise<ShardRunner>;
  /** Per slot: seq of the last batch that holds it (shared with the object path: seqs never repeat). */
  batchOf: Float64Array;
  nextSeq(): number;
  maxBatch: number;
  horizon: number;
  outputSize: number;
  onBatch(size: number, latencyMs: number): void;
}

/** A row slotOf answered with a negative slot: no state touched, no record. */
export const SKIPPED_ROW = -2;

/**
 * Called once per row, in order, after the kernel batch holding it has stepped: `row` is its row in
 * `out` ([row][horizon][outputSize], normalised), -1 when the row was not stepped (no input yet),
 * or SKIPPED_ROW when slotOf refused it. `t` is the series' sample count before this sample (the
 * default `t`).
 */
export type RowSink = (i: number, row: number, t: number, out: Float32Array) => void;

/** One kernel batch's rows: the batch, and per input row its kernel row and default t. */
class Part {
  readonly batch: Batch;
  readonly rowOf: Int32Array;
  readonly tOf: Float64Array;
  /** Input rows [first, end) are in the batch; `carried` is row end's slot when it was asked for but had to wait. */
  first = 0;
  end = 0;
  carried = -1;

  constructor(maxBatch: number, columns: number, outputPerRow: number) {
    this.batch = new Batch(maxBatch, columns, outputPerRow);
    this.rowOf = new Int32Array(maxBatch);
    this.tOf = new Float64Array(maxBatch);
  }
}

/** Rows between start() and finish(): `part` is their last batch when it was left stepping on the workers. */
export interface StartedRows {
  readonly sink: RowSink;
  readonly part: Part | null;
}

/**
 * The predictor's per-row work without sample objects or object-mode streams, for the binary API
 * (writeBatch) and the NDJSON row path (ndjson-rows.ts). The same steps as Predictor.admit() in the same order
 * (slot, batch seq, t, encode, previous values), then the same runner; kernel batches are cut at
 * maxBatch and at a series' second row, exactly where the object path cuts them. Callers run it only
 * when the object path is idle, so the two never interleave.
 *
 * start() and finish() split run() for a caller that pipelines (the NDJSON path with a worker
 * pool): start(k+1) admits its rows while round k's last batch steps, waits for that batch, and
 * leaves its own last batch stepping; the caller then finishes round k (its sink: decoding,
 * printing) while the workers step k+1. With a pool, waits for the workers are synchronous for up
 * to ShardRunner's SYNC_WAIT_MS (a wake-up through the event loop costs more than the batch).
 */
export class DirectStepper {
  private readonly ctx: DirectContext;
  /** Two parts alternate between start() calls: one may wait for finish() while the other fills. */
  private readonly parts: [Part, Part];
  private turn = 0;
  /** The batch on the workers, from start() until its end. */
  private begun: { batch: BegunBatch; part: Part; t0: number } | null = null;
  /** The runner once started (so start() does not wait a turn for it). */
  private runnerNow: ShardRunner | null = null;

  constructor(ctx: DirectContext) {
    this.ctx = ctx;
    const make = (): Part => new Part(ctx.maxBatch, ctx.state.columns, ctx.horizon * ctx.outputSize);
    this.parts = [make(), make()];
  }

  /**
   * Step rows [0, count): row i's series is slotOf(i) (which acquires or checks it; called once per
   * row, in order; a negative answer skips the row), its raw values are values[i*C .. i*C+C). Every
   * row has been validated by the caller. sink is called for every row, in order.
   */
  async run(count: number, slotOf: (i: number) => number, values: ArrayLike<number>, sink: RowSink): Promise<void> {
    await this.finish(await this.start(count, slotOf, values, sink));
  }

  /**
   * The first half of run(): admit the rows batch by batch and step them, but leave the last batch
   * on the workers (when a pool steps it) for finish() to wait for; the sink has been called for
   * every row before that batch. Admitting needs no hidden state, so a batch fills while the
   * previous start()'s last batch steps; no eviction can reach that batch's series (capacity >
   * 2 * maxBatch, and it touched them last). Every start() must be finished, in order, before the
   * next but one; the sink may thus run after the next start().
   */
  async start(count: number, slotOf: (i: number) => number, values: ArrayLike<number>, sink: RowSink): Promise<StartedRows> {
    const runner = this.runnerNow ?? (this.runnerNow = await this.ctx.runner);
    this.turn ^= 1;
    const part = this.parts[this.turn];
    let from = 0;
    let carried = -1;
    for (;;) {
      this.fill(part, from, carried, count, slotOf, values);
      await this.settle();
      const { batch } = part;
      const begun = batch.rows > 0 ? runner.begin(batch.rows, batch.slots, batch.inputs, batch.out) : null;
      if (begun) this.begun = { batch: begun, part, t0: performance.now() };
      else await this.step(runner, part);
      if (part.end === count && begun) return { sink, part };
      await this.settle();
      this.sinkPart(part, sink);
      if (part.end === count) return { sink, part: null };
      from = part.end;
      carried = part.carried;
    }
  }

  /** The second half: wait for the last batch, then call the sink for its rows. */
  async finish(rows: StartedRows): Promise<void> {
    if (!rows.part) return;
    if (this.begun?.part === rows.part) await this.settle();
    this.sinkPart(rows.part, rows.sink);
  }

  /** A batch start() handed to the workers has not been waited for yet. */
  get busy(): boolean {
    return this.begun !== null;
  }

  /** Wait for the batch start() handed to the workers (its rows' sink still waits for finish()). */
  idle(): Promise<void> {
    return this.settle();
  }

  private async settle(): Promise<void> {
    const begun = this.begun;
    if (!begun) return;
    this.begun = null;
    const pending = this.runnerNow!.end(begun.batch);
    if (pending) await pending;
    this.ctx.onBatch(begun.part.batch.rows, performance.now() - begun.t0);
  }

  /** Admit rows from `from` into one kernel batch, up to maxBatch or a series' second row. */
  private fill(part: Part, from: number, carried: number, count: number, slotOf: (i: number) => number, values: ArrayLike<number>): void {
    const { state: st, normaliser, batchOf, maxBatch } = this.ctx;
    const C = st.columns;
    const { batch, rowOf, tOf } = part;
    batch.reuse(this.ctx.nextSeq());
    part.first = from;
    part.carried = -1;
    let i = from;
    for (; i < count && i - from < maxBatch; i++) {
      const slot = carried >= 0 ? carried : slotOf(i);
      carried = -1;
      if (slot < 0) {
        rowOf[i - from] = SKIPPED_ROW;
        continue;
      }
      if (batchOf[slot] === batch.seq) {
        part.carried = slot; // this series' second row: next batch
        break;
      }
      batchOf[slot] = batch.seq;
      tOf[i - from] = st.steps[slot]++;
      const row = batch.rows;
      const stepped = normaliser.encodeFrom(values, i * C, C, st.previous, slot * C, st.hasPrevious[slot] === 1, batch.inputs, row * C);
      if (normaliser.usesPrevious) {
        for (let c = 0; c < C; c++) st.previous[slot * C + c] = values[i * C + c];
        st.hasPrevious[slot] = 1;
      }
      if (stepped) {
        batch.slots[row] = slot;
        batch.rows++;
      }
      rowOf[i - from] = stepped ? row : -1;
    }
    part.end = i;
  }

  /** Step a batch on the calling thread's runner path (no pool, or nothing to step). */
  private async step(runner: ShardRunner, part: Part): Promise<void> {
    const { batch } = part;
    const t0 = performance.now();
    if (batch.rows > 0) {
      const pending = runner.run(batch.rows, batch.slots, batch.inputs, batch.out);
      if (pending) await pending;
    }
    this.ctx.onBatch(batch.rows, performance.now() - t0);
  }

  private sinkPart(part: Part, sink: RowSink): void {
    const { first, end, rowOf, tOf, batch } = part;
    for (let j = first; j < end; j++) sink(j, rowOf[j - first], tOf[j - first], batch.out);
  }
}
