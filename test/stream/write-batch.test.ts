// The binary API (writeBatch, with ids or handles) against the object path, sample for sample.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, InputError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import type { GruModel } from '../../src/model/model.js';
import { createPredictor } from '../../src/stream/predictor.js';
import type { PredictorOptions } from '../../src/stream/predictor-options.js';
import { trainedModels } from '../helpers/fixtures.js';
import { interleavedSamples, runPredictor } from '../helpers/run-predictor.js';

/** Samples whose values are float32 numbers, so a Float32Array carries them exactly. */
function samples(model: GruModel, series: number, steps: number, seed: number) {
  return interleavedSamples(series, steps, model.config.inputSize, seed).map((s) => ({ series: s.series, values: s.values.map(Math.fround) }));
}

/** Forecasts of the object path as float32 rows ([n][horizon*O], NaN where null). */
async function objectForecasts(model: GruModel, input: ReturnType<typeof samples>, options: PredictorOptions): Promise<Float32Array> {
  const { outputs } = await runPredictor(model, input, options);
  const H = options.horizon ?? 1;
  const O = model.config.outputSize;
  const flat = new Float32Array(input.length * H * O);
  outputs.forEach((rec, i) => {
    const path = (H > 1 ? rec.path : rec.forecast === null ? null : [rec.forecast]) as number[][] | null;
    for (let k = 0; k < H; k++) for (let o = 0; o < O; o++) flat[(i * H + k) * O + o] = path === null ? Number.NaN : path[k][o];
  });
  return flat;
}

/** The same samples through writeBatch, in calls of `chunk` rows (a call may repeat a series). */
async function binaryForecasts(model: GruModel, input: ReturnType<typeof samples>, options: PredictorOptions, chunk: number, useHandles: boolean): Promise<Float32Array> {
  const predictor = createPredictor(model, options);
  const C = model.config.inputSize;
  const per = (options.horizon ?? 1) * model.config.outputSize;
  const result = new Float32Array(input.length * per);
  const handles = new Map<string, number>();
  for (let at = 0; at < input.length; at += chunk) {
    const rows = input.slice(at, at + chunk);
    const values = Float32Array.from(rows.flatMap((s) => s.values));
    const series = useHandles
      ? rows.map((s) => {
        if (!handles.has(s.series)) handles.set(s.series, predictor.handle(s.series));
        return handles.get(s.series)!;
      })
      : rows.map((s) => s.series);
    result.set(await predictor.writeBatch(series, values), at * per);
  }
  expect(predictor.stats()).toMatchObject({ samplesIn: input.length, forecastsOut: input.length, rejected: 0 });
  predictor.end();
  return result;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('writeBatch', () => {
  const cases = trainedModels().map((m) => [m.name, m.modelPath] as const);

  it.each(cases)('%s: ids and handles give the object path\'s forecasts bit for bit, in any call size', async (_name, path) => {
    const model = await loadModel(path);
    const input = samples(model, 37, 9, 3);
    const want = await objectForecasts(model, input, {});
    for (const [chunk, useHandles] of [[1, false], [50, false], [333, true], [input.length, true]] as const) {
      expect(bits(await binaryForecasts(model, input, {}, chunk, useHandles)), `chunk ${chunk} handles ${useHandles}`).toEqual(bits(want));
    }
  });

  it('horizon 3 with 2 workers: paths equal the object path', async () => {
    const model = await loadModel(cases[0][1]);
    const input = samples(model, 40, 6, 5);
    const options: PredictorOptions = { horizon: 3, workers: 2, maxBatch: 32 };
    const want = await objectForecasts(model, input, options);
    expect(bits(await binaryForecasts(model, input, options, 64, true))).toEqual(bits(want));
  });

  it('refuses bad rows with coded errors naming the row, and changes nothing', async () => {
    const model = await loadModel(cases[0][1]);
    const C = model.config.inputSize;
    const predictor = createPredictor(model);
    const good = Float32Array.from({ length: 2 * C }, (_, i) => 10 + i);
    await predictor.writeBatch(['a', 'b'], good);
    const handleA = predictor.handle('a');
    const before = await predictor.exportState();
    const bad = good.slice();
    bad[C] = Number.NaN;
    const attempts: Array<[() => Promise<unknown>, string]> = [
      [() => predictor.writeBatch(['a', 'b'], good.subarray(1)), ErrorCodes.ERR_INPUT_WIDTH],
      [() => predictor.writeBatch(['a', 'b'], bad), ErrorCodes.ERR_NON_FINITE],
      [() => predictor.writeBatch(['a', ''], good), ErrorCodes.ERR_SERIES_ID],
      [() => predictor.writeBatch([handleA, 12345], good), ErrorCodes.ERR_SERIES_HANDLE],
      [() => predictor.writeBatch([handleA, -1], good), ErrorCodes.ERR_SERIES_HANDLE],
    ];
    for (const [attempt, code] of attempts) {
      const err = await attempt().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe(code);
    }
    expect(await predictor.exportState()).toEqual(before);
    predictor.end();
  });

  it('a handle outlives neither reset nor eviction', async () => {
    const model = await loadModel(cases[0][1]);
    const C = model.config.inputSize;
    const predictor = createPredictor(model, { capacity: 4, maxBatch: 1 });
    const row = Float32Array.from({ length: C }, () => 5);
    const a = predictor.handle('a');
    await predictor.writeBatch([a], row);
    await predictor.reset('a');
    await expect(predictor.writeBatch([a], row)).rejects.toMatchObject({ code: ErrorCodes.ERR_SERIES_HANDLE });
    const b = predictor.handle('b');
    // Four more series through a 4-slot predictor evict b; its slot is reused, its handle is not.
    await predictor.writeBatch(['c', 'd', 'e', 'f'], Float32Array.from({ length: 4 * C }, () => 5));
    await expect(predictor.writeBatch([b], row)).rejects.toMatchObject({ code: ErrorCodes.ERR_SERIES_HANDLE });
    predictor.end();
  });

  it('refuses handles never issued: a free slot at any generation, a live slot at another', async () => {
    const model = await loadModel(cases[0][1]);
    const C = model.config.inputSize;
    const capacity = 4;
    const predictor = createPredictor(model, { capacity, maxBatch: 1 });
    const row = Float32Array.from({ length: C }, () => 5);
    const a = predictor.handle('a');
    const slotA = a % capacity;
    const freeSlot = (slotA + 1) % capacity;
    // Slot numbers alone, or with the generation a slot has before or after it is used.
    const forged = [freeSlot, freeSlot + capacity, freeSlot + 2 * capacity, slotA, a + 2 * capacity, a - capacity, a + 0.5, -1];
    for (const h of forged) await expect(predictor.writeBatch([h], row), String(h)).rejects.toMatchObject({ code: ErrorCodes.ERR_SERIES_HANDLE });
    await predictor.writeBatch([a], row);
    // After a leaves, its slot's generation moves on: neither a nor the freed slot at the new one is live.
    await predictor.reset('a');
    for (const h of [a, a + capacity]) await expect(predictor.writeBatch([h], row), String(h)).rejects.toMatchObject({ code: ErrorCodes.ERR_SERIES_HANDLE });
    predictor.end();
  });
});
