// The resident worker loops behind ShardRunner: shards posted through CONTROL words, results read
// back from the JOB buffers, and the transactional redo when a worker really exits.
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Control, arenaLayout, controlIndex, sharedFloats } from '../../src/kernel/layout.js';
import { loadModel } from '../../src/model/load-model.js';
import { ShardRunner } from '../../src/pool/shard-runner.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { trainedModels } from '../helpers/fixtures.js';

const ROWS = 96;

async function setup(workers: number, mainThread: boolean, injectFault: () => boolean = () => false) {
  const model = await loadModel(trainedModels()[0].modelPath);
  const layout = arenaLayout(model.shape, 2 * ROWS, ROWS, workers + 1);
  const arena = sharedFloats(layout.totalFloats);
  const rnd = seededRandom(9);
  for (let i = 0; i < 2 * ROWS * layout.slotStride; i++) arena[i] = rnd() - 0.5;
  const runner = await ShardRunner.create({ weights: model.weights, arena, arenaLayout: layout, workers, mainThread, horizon: 1, attempts: 3, injectFault });
  const I = model.config.inputSize;
  // Odd slots, reversed: shards cover scattered, descending slots.
  const slots = Int32Array.from({ length: ROWS }, (_, i) => 2 * (ROWS - i) - 1);
  const batches = Array.from({ length: 6 }, () => Float32Array.from({ length: ROWS * I }, () => rnd() - 0.5));
  const live = () => arena.slice(0, 2 * ROWS * layout.slotStride);
  /** Every batch through runner.run; the outputs of all of them, one after another. */
  const runAll = async (between: (b: number) => Promise<void> = async () => {}) => {
    const outs = new Float32Array(batches.length * ROWS * model.config.outputSize);
    for (let b = 0; b < batches.length; b++) {
      const out = new Float32Array(ROWS * model.config.outputSize);
      await runner.run(ROWS, slots, batches[b], out);
      outs.set(out, b * out.length);
      await between(b);
    }
    return outs;
  };
  /** The same batches through begin() and end(), as the NDJSON path leaves its last batch stepping. */
  const beginAll = async (between: (b: number) => Promise<void> = async () => {}) => {
    const outs = new Float32Array(batches.length * ROWS * model.config.outputSize);
    for (let b = 0; b < batches.length; b++) {
      const out = new Float32Array(ROWS * model.config.outputSize);
      const begun = runner.begin(ROWS, slots, batches[b], out);
      if (!begun) throw new Error('begin() refused a batch for the workers alone');
      await runner.end(begun);
      outs.set(out, b * out.length);
      await between(b);
    }
    return outs;
  };
  return { runner, runAll, beginAll, live };
}

/** The piscina threads behind a runner (test-only peek at a private field). */
function threadsOf(runner: ShardRunner): Worker[] {
  return (runner as unknown as { pool: { threads: Worker[] } }).pool.threads;
}

describe('resident worker loops', () => {
  it('all-remote shards (no main-thread shard) equal stepping on one thread, bit for bit', async () => {
    const single = await setup(0, false);
    const pooled = await setup(2, false);
    expect(await pooled.runAll()).toEqual(await single.runAll());
    expect(pooled.live()).toEqual(single.live());
    expect(pooled.runner.crashes).toBe(0);
    await Promise.all([single.runner.close(), pooled.runner.close()]);
  });

  it('a worker that exits mid-shard on every fourth shard is rolled back and redone: nothing lost or doubled', async () => {
    const clean = await setup(0, false);
    let shards = 0;
    let injected = 0;
    const crashy = await setup(2, false, () => ++shards % 4 === 1 && ++injected > 0);
    const expected = await clean.runAll();
    expect(await crashy.runAll()).toEqual(expected);
    expect(crashy.live()).toEqual(clean.live());
    // The splitter follows measured speed, so a batch may go to one worker alone (an empty shard is
    // dropped): the shard count depends on timing, the rule "every fourth shard dies" does not.
    expect(injected).toBe(Math.ceil(shards / 4));
    expect(injected).toBeGreaterThanOrEqual(2);
    expect(crashy.runner.crashes).toBe(injected);
    await Promise.all([clean.runner.close(), crashy.runner.close()]);
  });

  it('a worker terminated while its loop is idle is replaced on the next batch', async () => {
    const clean = await setup(0, false);
    const pooled = await setup(1, true);
    const expected = await clean.runAll();
    const outs = await pooled.runAll(async (b) => {
      if (b !== 2) return;
      // Kill the one worker between batches and wait until it has really exited.
      const [worker] = threadsOf(pooled.runner);
      const exited = once(worker, 'exit');
      await worker.terminate();
      await exited;
    });
    expect(outs).toEqual(expected);
    expect(pooled.live()).toEqual(clean.live());
    expect(pooled.runner.crashes).toBe(1);
    await Promise.all([clean.runner.close(), pooled.runner.close()]);
  });

  it('begin()/end(): the same results, a worker dying mid-shard redone, and begin() refused when the main thread steps', async () => {
    const clean = await setup(0, false);
    let shards = 0;
    const crashy = await setup(2, false, () => ++shards % 3 === 1);
    const expected = await clean.runAll();
    expect(await crashy.beginAll()).toEqual(expected);
    expect(crashy.live()).toEqual(clean.live());
    expect(crashy.runner.crashes).toBeGreaterThanOrEqual(2);
    const withMain = await setup(1, true);
    expect(withMain.runner.begin(ROWS, new Int32Array(ROWS), new Float32Array(ROWS * 8), new Float32Array(ROWS))).toBeNull();
    await Promise.all([clean.runner.close(), crashy.runner.close(), withMain.runner.close()]);
  });

  it('a loop idle long enough to park is woken by the next job (the dispatcher sees it parked and notifies)', async () => {
    const clean = await setup(0, false);
    const pooled = await setup(1, false);
    const control = (pooled.runner as unknown as { control: Int32Array }).control;
    const parked: number[] = [];
    const expected = await clean.runAll();
    const outs = await pooled.beginAll(async () => {
      // Longer than the loop polls before it parks (IDLE_MS): every next job finds it parked.
      await new Promise((resolve) => setTimeout(resolve, 60));
      parked.push(Atomics.load(control, controlIndex(0, Control.parked)));
    });
    expect(outs).toEqual(expected);
    expect(pooled.live()).toEqual(clean.live());
    expect(parked).toEqual(Array(parked.length).fill(1));
    await Promise.all([clean.runner.close(), pooled.runner.close()]);
  });

  it('close() stops every loop and ends the pool', async () => {
    const pooled = await setup(2, false);
    const threads = threadsOf(pooled.runner);
    expect(threads).toHaveLength(2);
    const exits = threads.map((w) => once(w, 'exit'));
    await pooled.runner.close();
    await Promise.all(exits);
  });
});
