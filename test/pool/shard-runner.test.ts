import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { arenaLayout, sharedFloats } from '../../src/kernel/layout.js';
import { loadModel } from '../../src/model/load-model.js';
import { ShardRunner } from '../../src/pool/shard-runner.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { trainedModels } from '../helpers/fixtures.js';

async function setup(attempts: number, injectFault: () => boolean) {
  const model = await loadModel(trainedModels()[0].modelPath);
  const rows = 64;
  const layout = arenaLayout(model.shape, 2 * rows, rows, 2);
  const arena = sharedFloats(layout.totalFloats);
  const rnd = seededRandom(5);
  for (let i = 0; i < rows * 2 * layout.slotStride; i++) arena[i] = rnd() - 0.5;
  const runner = await ShardRunner.create({ weights: model.weights, arena, arenaLayout: layout, workers: 1, mainThread: true, horizon: 1, attempts, injectFault });
  // Every other slot, so shards cover scattered slots.
  const slots = Int32Array.from({ length: rows }, (_, i) => 2 * i);
  const inputs = Float32Array.from({ length: rows * model.config.inputSize }, () => rnd() - 0.5);
  return { model, runner, arena, stride: layout.slotStride, slots, inputs, out: new Float32Array(rows * model.config.outputSize) };
}

describe('ShardRunner', () => {
  it('a batch whose worker keeps dying is rolled back whole, main-thread shard included, and fails with ERR_WORKER', async () => {
    const { runner, arena, stride, slots, inputs, out } = await setup(1, () => true);
    const before = arena.slice();
    await expect(runner.run(slots.length, slots, inputs, out)).rejects.toMatchObject({ code: ErrorCodes.ERR_WORKER });
    expect(runner.crashes).toBe(1);
    const live = (a: Float32Array) => a.subarray(0, 2 * slots.length * stride);
    expect(live(arena)).toEqual(live(before));
    await runner.close();
  });

  it('a redone shard gives the same states and outputs as an undisturbed run', async () => {
    const clean = await setup(3, () => false);
    const crashy = await setup(3, () => true);
    await clean.runner.run(clean.slots.length, clean.slots, clean.inputs, clean.out);
    await crashy.runner.run(crashy.slots.length, crashy.slots, crashy.inputs, crashy.out);
    expect(crashy.runner.crashes).toBe(1);
    expect(crashy.out).toEqual(clean.out);
    const { stride } = clean;
    expect(crashy.arena.subarray(0, 128 * stride)).toEqual(clean.arena.subarray(0, 128 * stride));
    await Promise.all([clean.runner.close(), crashy.runner.close()]);
  });
});
