import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import { createPredictor } from '../../src/stream/predictor.js';
import { trainedModels } from '../helpers/fixtures.js';
import { interleavedSamples, runPredictor } from '../helpers/run-predictor.js';

describe.each(trainedModels().map((m) => [m.name, m.modelPath] as const))('state snapshots (%s)', (_name, modelPath) => {
  it('export -> JSON -> import -> continue equals never stopping, bit for bit', async () => {
    const model = await loadModel(modelPath);
    const samples = interleavedSamples(40, 20, model.config.inputSize, 3);
    const cut = samples.length / 2 + 7;
    const straight = await runPredictor(model, samples);
    const firstHalf = await runPredictor(model, samples.slice(0, cut));
    const snapshot = JSON.parse(JSON.stringify(await firstHalf.predictor.exportState()));
    const resumed = createPredictor(model);
    await resumed.importState(snapshot);
    const secondHalf = await runPredictor(model, samples.slice(cut), {}, resumed);
    expect([...firstHalf.outputs, ...secondHalf.outputs]).toEqual(straight.outputs);
  });

  it('a bad snapshot is refused with ERR_STATE_FORMAT and changes nothing', async () => {
    const model = await loadModel(modelPath);
    const samples = interleavedSamples(5, 4, model.config.inputSize, 5);
    const { predictor } = await runPredictor(model, samples);
    const fresh = createPredictor(model);
    const good = await predictor.exportState();
    await fresh.importState(good);
    const before = JSON.stringify(await fresh.exportState());
    const broken = structuredClone(good);
    broken.series[3].state = broken.series[3].state.slice(0, 8);
    await expect(fresh.importState(broken)).rejects.toMatchObject({ code: ErrorCodes.ERR_STATE_FORMAT });
    await expect(fresh.importState({ ...good, model: { ...good.model, hiddenSize: 3 } })).rejects.toMatchObject({ code: ErrorCodes.ERR_STATE_FORMAT });
    await expect(fresh.importState({ nonsense: true } as never)).rejects.toMatchObject({ code: ErrorCodes.ERR_STATE_FORMAT });
    expect(JSON.stringify(await fresh.exportState())).toBe(before);
    fresh.destroy();
  });

  it('reset(series) makes that series start again from a zero state', async () => {
    const model = await loadModel(modelPath);
    const samples = interleavedSamples(3, 6, model.config.inputSize, 9);
    const fresh = await runPredictor(model, samples.filter((s) => s.series === 's1').slice(3));
    const p = createPredictor(model);
    const seen: unknown[] = [];
    p.on('data', (r) => seen.push(r));
    for (const s of samples.slice(0, 9)) p.write(s);
    expect(await p.reset('s1')).toBe(true);
    expect(await p.reset('never-seen')).toBe(false);
    const rest = samples.slice(9);
    for (const s of rest) p.write(s);
    p.end();
    await new Promise((r) => p.on('end', r));
    const s1After = seen.slice(9).filter((r) => (r as { series: string }).series === 's1').map((r) => (r as { forecast: unknown }).forecast);
    expect(s1After).toEqual(fresh.outputs.map((r) => r.forecast));
  });
});
