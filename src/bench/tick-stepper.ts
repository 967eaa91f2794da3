import type { GruKernel } from '../kernel/kernel.js';
import { arenaLayout, sharedFloats } from '../kernel/layout.js';
import type { PackedWeights } from '../model/pack-weights.js';
import { type KernelPreference, availableKernels, createKernel } from '../kernel/select.js';
import { ShardRunner } from '../pool/shard-runner.js';

/**
 * Advances every series of a benchmark by one step per call, the way a real deployment would:
 * one compute thread calls the kernel directly; N > 1 threads go through the worker pool
 * (main thread + N-1 piscina workers on the shared arena), exactly the path `predict` uses.
 * Slot b holds series b; states start at zero (PyTorch's default h0).
 */
export interface TickStepper {
  /** The kernel that computes (resolved from the preference: what 'auto' picked). */
  readonly kernelName: string;
  /** How the work is spread, for the result's notes. */
  readonly description: string;
  /** inputs [series][input] → out [series] forecasts. Resolves when every shard is done. */
  tick(inputs: Float32Array, out: Float32Array): void | Promise<void>;
  /** True when tick() always finishes before it returns (one thread: the kernel called directly). */
  readonly sync: boolean;
  /** Every series back to a zero state (after warm-up ticks; never while a tick runs). */
  reset(): void;
  close(): Promise<void>;
}

/**
 * Rows per kernel call on one thread. The kernel sizes its scratch by its batch, so the largest
 * sweep points (65,536 series) are stepped in blocks rather than asking for one huge scratch;
 * a block this size already reuses each weight row across thousands of series.
 */
const BLOCK_ROWS = 4096;

export interface TickStepperOptions {
  weights: PackedWeights;
  series: number;
  threads: number;
  kernel: KernelPreference;
}

function resolvedKernelName(preference: KernelPreference): string {
  return preference === 'auto' ? availableKernels()[0] : preference;
}

function singleThread(weights: PackedWeights, series: number, kernelPref: KernelPreference): TickStepper {
  const block = Math.min(series, BLOCK_ROWS);
  const layout = arenaLayout(weights.layout.shape, series, block, 1);
  const arena = sharedFloats(layout.totalFloats);
  const kernel: GruKernel = createKernel({ weights: weights.data, layout: weights.layout, arena, arenaLayout: layout }, block, kernelPref);
  const I = weights.layout.shape.inputSize;
  const slots = Int32Array.from({ length: series }, (_, i) => i);
  // Views made once: the timed loop allocates nothing.
  const blocks: { count: number; slots: Int32Array; inAt: number }[] = [];
  for (let start = 0; start < series; start += block) {
    const count = Math.min(block, series - start);
    blocks.push({ count, slots: slots.subarray(start, start + count), inAt: start });
  }
  return {
    kernelName: kernel.name,
    description: 'main thread only, kernel called directly',
    sync: true,
    reset: () => void arena.fill(0),
    tick(inputs, out) {
      if (blocks.length === 1) {
        kernel.step(series, slots, inputs, out);
        return;
      }
      for (const b of blocks) kernel.step(b.count, b.slots, inputs.subarray(b.inAt * I), out.subarray(b.inAt));
    },
    async close() {},
  };
}

async function pooled(weights: PackedWeights, series: number, threads: number, kernelPref: KernelPreference): Promise<TickStepper> {
  // The pool backs up a shard's slots by batch row, so its scratch must cover a whole tick.
  const layout = arenaLayout(weights.layout.shape, series, series, threads);
  const arena = sharedFloats(layout.totalFloats);
  const runner = await ShardRunner.create({ weights, arena, arenaLayout: layout, workers: threads - 1, mainThread: true, horizon: 1, kernel: kernelPref });
  const slots = Int32Array.from({ length: series }, (_, i) => i);
  return {
    kernelName: resolvedKernelName(kernelPref),
    description: `main thread + ${threads - 1} piscina worker(s) via ShardRunner on a shared arena`,
    sync: false,
    reset: () => void arena.fill(0),
    tick: (inputs, out) => runner.run(series, slots, inputs, out),
    close: () => runner.close(),
  };
}

export async function createTickStepper(options: TickStepperOptions): Promise<TickStepper> {
  const { weights, series, threads, kernel } = options;
  return threads === 1 ? singleThread(weights, series, kernel) : pooled(weights, series, threads, kernel);
}
