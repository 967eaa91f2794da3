// The short waits of the resident loop and the dispatcher (poll-change.ts): true as soon as the word
// differs, including when another thread stores it; false once the time is up; both the native
// (yielding) poll and the portable spin.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { nativeAddonModule } from '../../src/kernel/native-kernel.js';
import { type PollChange, pollChange, spinPoll } from '../../src/pool/poll-change.js';

const native = nativeAddonModule()?.pollChange !== undefined;
/** The addon is built by npm ci on x86-64 unless skipped; pollChange needs no AVX, so any such CPU has it. */
const nativeExpected = process.env.GRU_STREAM_SKIP_NATIVE !== '1' && process.arch === 'x64';
const polls: Array<[string, PollChange]> = [
  ['spinPoll', spinPoll],
  ...(native ? [['native pollChange', pollChange()] as [string, PollChange]] : []),
];

const words = () => new Int32Array(new SharedArrayBuffer(64));

describe('pollChange', () => {
  it.skipIf(!nativeExpected)('is the native one when the addon is built', () => {
    expect(native).toBe(true);
    expect(pollChange()).not.toBe(spinPoll);
  });

  describe.each(polls)('%s', (_, poll) => {
    it('returns true at once when the word already differs', () => {
      const w = words();
      w[3] = 7;
      const t0 = performance.now();
      expect(poll(w, 3, 0, 10_000)).toBe(true);
      expect(performance.now() - t0).toBeLessThan(1_000);
    });

    it('returns false once the time is up, the word unchanged', () => {
      const w = words();
      const t0 = performance.now();
      expect(poll(w, 5, 0, 20)).toBe(false);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(19);
      expect(w[5]).toBe(0);
    });

    it('returns true when another thread stores a new value meanwhile', async () => {
      const w = words();
      const code = `
        const { workerData, parentPort } = require('node:worker_threads');
        parentPort.postMessage('started');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
        Atomics.store(workerData, 2, 42);`;
      const worker = new Worker(code, { eval: true, workerData: w });
      await new Promise((resolve) => worker.once('message', resolve));
      const t0 = performance.now();
      expect(poll(w, 2, 0, 10_000)).toBe(true);
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(Atomics.load(w, 2)).toBe(42);
      await worker.terminate();
    });
  });

  it.runIf(native)('the native one refuses an index outside the array, naming its arguments', () => {
    const poll = nativeAddonModule()!.pollChange as (w: Int32Array, i: number, v: number, us: number) => boolean;
    expect(() => poll(words(), 16, 0, 1)).toThrow(/pollChange\(words: Int32Array, index within it/);
    expect(() => poll(new Float32Array(4) as unknown as Int32Array, 0, 0, 1)).toThrow(/bad arguments/);
    expect(() => poll(words(), 0, 0, -1)).toThrow(/bad arguments/);
  });
});
