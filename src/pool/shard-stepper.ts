import type { ArenaLayout } from '../kernel/layout.js';
import { Control, type JobBuffers, backupSlot, controlIndex, copySlot, scratchSlot } from '../kernel/layout.js';
import type { GruKernel } from '../kernel/kernel.js';
import type { PackedWeights } from '../model/pack-weights.js';
import { type KernelPreference, createKernel } from '../kernel/select.js';

/** What one compute thread needs to step its share of a batch; sent once (as piscina workerData). */
export interface StepperInit {
  weights: PackedWeights;
  arena: Float32Array;
  arenaLayout: ArenaLayout;
  /** CONTROL words (layout.ts): a block per compute thread. */
  control: Int32Array;
  /** JOB buffers (layout.ts) the dispatcher fills for pool workers. */
  jobs: JobBuffers;
  horizon: number;
  kernel: KernelPreference;
}

/**
 * Steps a shard of series on one thread: one live step per row, then (horizon > 1) a roll-out
 * that feeds each forecast back as the next input on a *copy* of the state in this thread's
 * scratch slots, so the live state only ever advances by the real samples.
 * The same code runs on the main thread and inside pool workers.
 */
export class ShardStepper {
  readonly kernel: GruKernel;
  private readonly init: StepperInit;
  private readonly outputSize: number;
  private readonly rolloutSlots: Int32Array;
  private readonly rolloutIn: Float32Array;
  private readonly stepOut: Float32Array;

  constructor(init: StepperInit) {
    this.init = init;
    const { weights, arena, arenaLayout } = init;
    this.outputSize = weights.layout.shape.outputSize;
    const maxBatch = arenaLayout.maxBatch;
    this.kernel = createKernel({ weights: weights.data, layout: weights.layout, arena, arenaLayout }, maxBatch, init.kernel);
    this.rolloutSlots = new Int32Array(maxBatch);
    this.rolloutIn = new Float32Array(maxBatch * Math.max(1, this.outputSize));
    this.stepOut = new Float32Array(maxBatch * Math.max(1, this.outputSize));
  }

  /**
   * Copy the shard's live states to this thread's backup slots, then publish backupSeq. The copy is
   * done here, by the thread that steps the shard and in parallel with the other shards, rather than
   * by the dispatcher before sending. Atomics.store orders the plain stores of the copy before it:
   * an observer that loads backupSeq afterwards sees a complete backup. Live slots are written only
   * after the store, so a thread that dies before it has changed nothing.
   */
  backup(thread: number, count: number, slots: Int32Array, seq: number): void {
    const { arena, arenaLayout, control } = this.init;
    const base = backupSlot(arenaLayout, thread);
    for (let b = 0; b < count; b++) copySlot(arena, arenaLayout, slots[b], base + b);
    Atomics.store(control, controlIndex(thread, Control.backupSeq), seq);
  }

  /**
   * Step rows [0, count) of slots/inputs; write [count][horizon][O] forecasts to out.
   * `thread` picks the scratch and backup blocks; two shards running at once must use different
   * threads. A non-zero backupSeq makes the step transactional (see backup()).
   */
  run(thread: number, count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array, backupSeq = 0): void {
    const { horizon, arena, arenaLayout } = this.init;
    const O = this.outputSize;
    if (backupSeq !== 0) this.backup(thread, count, slots, backupSeq);
    if (horizon === 1) {
      this.kernel.step(count, slots, inputs, out);
      return;
    }
    const base = scratchSlot(arenaLayout, thread);
    this.kernel.step(count, slots, inputs, this.stepOut);
    for (let b = 0; b < count; b++) {
      this.rolloutSlots[b] = base + b;
      copySlot(arena, arenaLayout, slots[b], base + b);
    }
    for (let k = 0; ; k++) {
      for (let b = 0; b < count; b++) {
        for (let o = 0; o < O; o++) out[(b * horizon + k) * O + o] = this.stepOut[b * O + o];
      }
      if (k === horizon - 1) break;
      // The forecast is the next normalised input (the predictor requires outputSize == inputSize for horizon > 1).
      this.rolloutIn.set(this.stepOut.subarray(0, count * O));
      this.kernel.step(count, this.rolloutSlots, this.rolloutIn, this.stepOut);
    }
  }
}
