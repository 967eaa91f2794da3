import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load-model.js';
import { trainedModels } from '../helpers/fixtures.js';
import { interleavedSamples, runPredictor } from '../helpers/run-predictor.js';

const models = trainedModels();

describe.each(models.map((m) => [m.name, m.modelPath] as const))('state capacity and horizon (%s)', (_name, modelPath) => {
  it('evicts the least recently used series, reports it, and restarts it from zero', async () => {
    const model = await loadModel(modelPath);
    const C = model.config.inputSize;
    const v = (x: number) => new Array(C).fill(x);
    // capacity 5: a, b, c, d, e fill it; a is touched again, so b is the LRU when f arrives.
    const order = ['a', 'b', 'c', 'd', 'e', 'a', 'f', 'b'];
    const samples = order.map((series, i) => ({ series, values: v(20 + i) }));
    const run = await runPredictor(model, samples, { capacity: 5 });
    expect(run.evicted).toEqual(['b', 'c']);
    expect(run.predictor.stats()).toMatchObject({ evicted: 2, liveSeries: 5 });
    // b came back after eviction: it behaves exactly like a brand-new series with that sample.
    const fresh = await runPredictor(model, [samples[7]]);
    expect(run.outputs[7]).toEqual({ ...fresh.outputs[0] });
  });

  it('horizon K rolls out on a copy: live forecasts unchanged, path[0] = forecast, path = feeding forecasts back', async () => {
    const model = await loadModel(modelPath);
    const samples = interleavedSamples(3, 15, model.config.inputSize, 17);
    const one = await runPredictor(model, samples);
    const three = await runPredictor(model, samples, { horizon: 3 });
    expect(three.outputs.map((r) => r.forecast)).toEqual(one.outputs.map((r) => r.forecast));
    for (const r of three.outputs) {
      if (r.forecast === null) expect(r.path).toBeNull();
      else expect((r.path as number[][])[0]).toEqual(r.forecast);
    }
    // Step 2 of a path equals what a predictor would say if the step-1 forecast had really arrived.
    const k = samples.length - 2;
    const rec = three.outputs[k] as { series: string; path: number[][] };
    const series = samples.slice(0, k + 1).filter((s) => s.series === rec.series);
    const fed = await runPredictor(model, [...series, { series: rec.series, values: rec.path[0] }]);
    const last = fed.outputs[fed.outputs.length - 1].forecast as number[];
    last.forEach((x, c) => expect(Math.abs(x - rec.path[1][c])).toBeLessThan(1e-6 * Math.max(1, Math.abs(x))));
  });
});
