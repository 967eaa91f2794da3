import type { Normaliser } from '../model/normaliser.js';
import type { ShardRunner } from '../pool/shard-runner.js';
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

/**
 * Called once per row, in order, after the kernel batch holding it has stepped: `row` is its row in
 * `out` ([row][horizon][outputSize], normalised), -1 when the row was not stepped (no input yet),
 * or SKIPPED_ROW when slotOf refused it. `t` is the series' sample count before this sample (the
 * default `t`).
 */
/** A row slotOf answered with a negative slot: no state touched, no record. */
export const SKIPPED_ROW = -2;

export type RowSink = (i: number, row: number, t: number, out: Float32Array) => void;

/**
 * The predictor's per-row work without sample objects or object-mode streams, for the binary API
 * (writeBatch) and the NDJSON row path (ndjson-rows.ts). The same steps as Predictor.admit() in the same order
 * (slot, batch seq, t, encode, previous values), then the same runner; kernel batches are cut at
 * maxBatch and at a series' second row, exactly where the object path cuts them. Callers run it only
 * when the object path is idle, so the two never interleave.
 */
export class DirectStepper {
  private readonly ctx: DirectContext;
  private readonly batch: Batch;
  private readonly rowOf: Int32Array;
  private readonly tOf: Float64Array;

  constructor(ctx: DirectContext) {
    this.ctx = ctx;
    const C = ctx.state.columns;
    this.batch = new Batch(ctx.maxBatch, C, ctx.horizon * ctx.outputSize);
    this.rowOf = new Int32Array(ctx.maxBatch);
    this.tOf = new Float64Array(ctx.maxBatch);
  }

  /**
   * Step rows [0, count): row i's series is slotOf(i) (which acquires or checks it; called once per
   * row, in order; a negative answer skips the row), its raw values are values[i*C .. i*C+C). Every
   * row has been validated by the caller.
   */
  async run(count: number, slotOf: (i: number) => number, values: ArrayLike<number>, sink: RowSink): Promise<void> {
    const { state: st, normaliser, batchOf, maxBatch } = this.ctx;
    const C = st.columns;
    const batch = this.batch;
    const runner = await this.ctx.runner;
    let i = 0;
    /** The slot of row i when it was asked for but the row had to wait for the next batch. */
    let carried = -1;
    while (i < count) {
      batch.reuse(this.ctx.nextSeq());
      const first = i;
      for (; i < count && i - first < maxBatch; i++) {
        const slot = carried >= 0 ? carried : slotOf(i);
        carried = -1;
        if (slot < 0) {
          this.rowOf[i - first] = SKIPPED_ROW;
          continue;
        }
        if (batchOf[slot] === batch.seq) {
          carried = slot; // this series' second row: next batch
          break;
        }
        batchOf[slot] = batch.seq;
        this.tOf[i - first] = st.steps[slot]++;
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
        this.rowOf[i - first] = stepped ? row : -1;
      }
      const t0 = performance.now();
      if (batch.rows > 0) {
        const pending = runner.run(batch.rows, batch.slots, batch.inputs, batch.out);
        if (pending) await pending;
      }
      this.ctx.onBatch(batch.rows, performance.now() - t0);
      for (let j = first; j < i; j++) sink(j, this.rowOf[j - first], this.tOf[j - first], batch.out);
    }
  }
}
