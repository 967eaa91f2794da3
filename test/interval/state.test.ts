import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import { createPredictor } from '../../src/stream/predictor.js';
import type { PredictorOptions } from '../../src/stream/predictor-options.js';
import { trainedModels } from '../helpers/fixtures.js';
import { csvRows, removeScratchDirs, scratchDir, writeWithValidationResiduals } from '../helpers/interval-cases.js';
import { runPredictor } from '../helpers/run-predictor.js';

afterAll(removeScratchDirs);

/** Three series interleaved, each a stretch of the model's own series (so the calibration is real). */
function interleaved(rows: number[][], steps: number): Array<{ series: string; values: number[] }> {
  const out: Array<{ series: string; values: number[] }> = [];
  for (let t = 0; t < steps; t++) for (let s = 0; s < 3; s++) out.push({ series: `s${s}`, values: rows[s * 97 + t] });
  return out;
}

const setups: Array<[string, PredictorOptions]> = [
  ['one level', { interval: 0.9 }],
  ['two levels, horizon 3', { interval: [0.8, 0.95], horizon: 3 }],
];

describe.each(trainedModels().map((m) => [m.name, m] as const))('interval state (%s)', (_name, m) => {
  it.each(setups)('export -> JSON -> import -> continue equals never stopping, byte for byte (%s)', async (_setup, options) => {
    const dir = scratchDir();
    const rows = csvRows(m.csvPath, m.expected.config.columns);
    const validation = (m.expected.config as unknown as { validation_rows: [number, number] }).validation_rows;
    for (const modelPath of [m.modelPath, await writeWithValidationResiduals(m.modelPath, rows, validation, join(dir, 'v.safetensors'))]) {
      const model = await loadModel(modelPath);
      const samples = interleaved(rows, 80);
      const cut = 3 * 41 + 1; // mid-way, and mid-round: s0 is one sample ahead of s1 and s2
      const straight = await runPredictor(model, samples, options);
      const first = await runPredictor(model, samples.slice(0, cut), options);
      const snapshot = JSON.parse(JSON.stringify(await first.predictor.exportState()));
      expect(snapshot.intervals).toBeDefined();
      expect(snapshot.series.every((s: { intervals?: string }) => typeof s.intervals === 'string')).toBe(true);
      const resumed = createPredictor(model, options);
      await resumed.importState(snapshot);
      const second = await runPredictor(model, samples.slice(cut), options, resumed);
      const joined = [...first.outputs, ...second.outputs].map((r) => JSON.stringify(r));
      expect(joined).toEqual(straight.outputs.map((r) => JSON.stringify(r)));
      // The pin has teeth: intervals were published after the cut, and differ from a cold restart's.
      const after = second.outputs.filter((r) => (r.interval as { lower: unknown } | undefined)?.lower || (r.intervals as Array<{ lower: unknown }> | undefined)?.[0].lower);
      expect(after.length).toBe(second.outputs.length);
      const cold = await runPredictor(model, samples.slice(cut), options);
      expect(cold.outputs.map((r) => JSON.stringify(r))).not.toEqual(second.outputs.map((r) => JSON.stringify(r)));
    }
  });

  it('a snapshot with interval state of another setup, or broken, is refused with ERR_STATE_FORMAT and changes nothing', async () => {
    const model = await loadModel(m.modelPath);
    const samples = interleaved(csvRows(m.csvPath, m.expected.config.columns), 20);
    const { predictor } = await runPredictor(model, samples, { interval: 0.9 });
    const good = await predictor.exportState();
    const other = createPredictor(model, { interval: 0.8 });
    await expect(other.importState(good)).rejects.toMatchObject({ code: ErrorCodes.ERR_STATE_FORMAT });
    const fresh = createPredictor(model, { interval: 0.9 });
    await fresh.importState(good);
    const before = JSON.stringify(await fresh.exportState());
    const truncated = structuredClone(good);
    truncated.series[1].intervals = truncated.series[1].intervals!.slice(0, 12);
    await expect(fresh.importState(truncated)).rejects.toMatchObject({ code: ErrorCodes.ERR_STATE_FORMAT });
    const nonFinite = structuredClone(good);
    const bytes = Buffer.from(nonFinite.series[0].intervals!, 'base64');
    bytes.writeDoubleLE(Number.POSITIVE_INFINITY, 8 * 2);
    nonFinite.series[0].intervals = bytes.toString('base64');
    await expect(fresh.importState(nonFinite)).rejects.toMatchObject({ code: ErrorCodes.ERR_STATE_FORMAT });
    expect(JSON.stringify(await fresh.exportState())).toBe(before);
    // A snapshot taken without intervals still loads: those series calibrate from scratch.
    const plain = await (await runPredictor(model, samples)).predictor.exportState();
    await fresh.importState(plain);
    other.destroy();
    fresh.destroy();
  });
});
