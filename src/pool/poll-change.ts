import { nativeAddonModule } from '../kernel/native-kernel.js';

/**
 * Wait up to `ms` for words[index] to differ from `value`; true once it does. The short wait of a
 * thread that expects an answer within microseconds: the resident loop between jobs, the
 * dispatcher for a batch's results (shard-runner.ts), before either sleeps in Atomics.wait.
 *
 * The native one (native/poll_change.cc) yields the CPU between looks. On a machine whose CPUs are
 * all busy (here: two vCPUs, with the main thread, a worker, the process feeding the pipe and V8's GC
 * helpers runnable), a plain spin holds a CPU that the others queue for; a yield hands it over and
 * still comes back at once when nothing else runs. Measured on predict's NDJSON pipeline with
 * `--workers 1` (BENCHMARKS.md, issue 12, sixth round): samples/s a median 1.13x the plain spin's in
 * 8 alternating pairs, CPU of predict and its feeder 0.77-1.06x; the kernel bench's two-thread W2
 * and W3 unchanged within their noise.
 */
export type PollChange = (words: Int32Array, index: number, value: number, ms: number) => boolean;

/** A plain spin, for when the addon is not built: a clock read every 64 looks. */
export const spinPoll: PollChange = (words, index, value, ms) => {
  const until = performance.now() + ms;
  for (let i = 1; ; i++) {
    if (Atomics.load(words, index) !== value) return true;
    if ((i & 63) === 0 && performance.now() >= until) return false;
  }
};

type NativePoll = (words: Int32Array, index: number, value: number, micros: number) => boolean;

/** The yielding poll when the addon loads, else spinPoll. */
export function pollChange(): PollChange {
  const native = nativeAddonModule()?.pollChange as NativePoll | undefined;
  return native ? (words, index, value, ms) => native(words, index, value, ms * 1000) : spinPoll;
}
