import type { ArenaLayout, WeightLayout } from './layout.js';

/** What every kernel is handed: the shared weights and the shared state arena, with their layouts. */
export interface KernelContext {
  weights: Float32Array;
  layout: WeightLayout;
  arena: Float32Array;
  arenaLayout: ArenaLayout;
}

/**
 * The one interface between callers (model, predictor, pool, bench) and the arithmetic.
 * Implementations: `js` (portable, always there) and `native` (AVX2/FMA addon, when it built).
 * Every implementation passes the same golden and metamorphic tests.
 */
export interface GruKernel {
  readonly name: KernelName;
  /** The native kernel's vector path ('avx2' or 'avx512'); absent for the portable kernel. */
  readonly isa?: string;
  /**
   * Advance `count` independent series by one time step, in place in the arena.
   * Row b reads input `inputs[b*I .. b*I+I)` and state slot `slots[b]`; it writes the new state of
   * every layer back into that slot and, with a head, the head output to `out[b*O .. b*O+O)`.
   * Slots within one call must be distinct (the caller guarantees it: one series, one row).
   * Allocates nothing; count must not exceed the batch size the kernel was created for.
   */
  step(count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): void;
}

export type KernelName = 'js' | 'native';

export type KernelFactory = (ctx: KernelContext, maxBatch: number) => GruKernel;
