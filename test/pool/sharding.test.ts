import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load-model.js';
import { trainedModels } from '../helpers/fixtures.js';
import { interleavedSamples, runPredictor } from '../helpers/run-predictor.js';

const [first] = trainedModels().filter((m) => m.name.startsWith('eustock'));
const modelPath = (first ?? trainedModels()[0]).modelPath;

describe('worker pool', () => {
  it('sharded across 2 workers equals one thread, bit for bit, in input order', async () => {
    const model = await loadModel(modelPath);
    const samples = interleavedSamples(300, 12, model.config.inputSize, 7);
    const single = await runPredictor(model, samples, { workers: 0 });
    const sharded = await runPredictor(model, samples, { workers: 2, maxBatch: 128 });
    expect(sharded.outputs).toHaveLength(samples.length);
    expect(sharded.outputs).toEqual(single.outputs);
    expect(sharded.predictor.stats().workerRestarts).toBe(0);
  });

  it('a worker killed mid-batch loses and doubles nothing', async () => {
    const model = await loadModel(modelPath);
    const samples = interleavedSamples(200, 10, model.config.inputSize, 11);
    const clean = await runPredictor(model, samples, { workers: 0 });
    let batches = 0;
    // Kill a worker in the middle of every third batch: it has stepped half its rows when it dies.
    const crashy = await runPredictor(model, samples, { workers: 2, maxBatch: 64, injectWorkerFault: () => ++batches % 3 === 0 });
    expect(crashy.predictor.stats().workerRestarts).toBeGreaterThan(0);
    expect(crashy.outputs).toHaveLength(samples.length);
    expect(crashy.outputs).toEqual(clean.outputs);
  });
});
