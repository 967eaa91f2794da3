import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModel, modelFromBytes } from '../../src/model/load-model.js';
import { parseSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import { trainedModels } from '../helpers/fixtures.js';
import { csvRows } from '../helpers/interval-cases.js';
import { runPredictor } from '../helpers/run-predictor.js';

type Bounds = { level: number; lower: number[] | null; upper: number[] | null };
type PathBounds = { level: number; lower: number[][] | null; upper: number[][] | null };

function expectOrdered(lower: number[], upper: number[], columns: number): void {
  expect(lower).toHaveLength(columns);
  expect(upper).toHaveLength(columns);
  for (let c = 0; c < columns; c++) {
    expect(Number.isFinite(lower[c]) && Number.isFinite(upper[c])).toBe(true);
    expect(lower[c]).toBeLessThanOrEqual(upper[c]);
  }
}

describe.each(trainedModels().map((m) => [m.name, m] as const))('interval fields on records (%s)', (_name, m) => {
  const columns = m.expected.config.columns;
  const C = columns.length;
  const samples = csvRows(m.csvPath, columns).slice(0, 40).map((values) => ({ series: 'a', values }));

  it('one level: `interval` on every record, null until 10 residuals were scored, then ordered bounds', async () => {
    const model = await loadModel(m.modelPath);
    const { outputs } = await runPredictor(model, samples, { interval: 0.9 });
    const plain = await runPredictor(model, samples);
    const firstForecast = outputs.findIndex((r) => r.forecast !== null);
    outputs.forEach((r, i) => {
      expect(r.intervals).toBeUndefined();
      expect(r.intervalPath).toBeUndefined();
      const iv = r.interval as Bounds;
      expect(iv.level).toBe(0.9);
      // Record i has scored the forecasts of records firstForecast..i-1 against their next actual.
      const scored = Math.max(0, i - firstForecast);
      if (scored < 10) expect([iv.lower, iv.upper]).toEqual([null, null]);
      else expectOrdered(iv.lower!, iv.upper!, C);
      // Everything else is exactly what a predictor without intervals says.
      const { interval: _, ...rest } = r;
      expect(rest).toEqual(plain.outputs[i]);
    });
  });

  it('several levels and a horizon: `intervals` and `intervalPaths`, one per level in the order asked, [horizon][columns]', async () => {
    const model = await loadModel(m.modelPath);
    const levels = [0.95, 0.5];
    const { outputs } = await runPredictor(model, samples, { interval: levels, horizon: 3 });
    const last = outputs.at(-1)!;
    expect(last.interval).toBeUndefined();
    const next = last.intervals as Bounds[];
    const paths = last.intervalPaths as PathBounds[];
    expect(next.map((b) => b.level)).toEqual(levels);
    expect(paths.map((b) => b.level)).toEqual(levels);
    for (let l = 0; l < levels.length; l++) {
      expect(paths[l].lower).toHaveLength(3);
      for (let k = 0; k < 3; k++) expectOrdered(paths[l].lower![k], paths[l].upper![k], C);
      // Step 1 of the path is the next-step interval.
      expect(paths[l].lower![0]).toEqual(next[l].lower);
      expect(paths[l].upper![0]).toEqual(next[l].upper);
    }
    // A wider level gives a wider interval here (separate trackers, same residuals).
    for (let c = 0; c < C; c++) expect(next[0].upper![c] - next[0].lower![c]).toBeGreaterThan(next[1].upper![c] - next[1].lower![c]);
    // A path is published once its last step is calibrated: later than the next-step interval.
    const firstStep = outputs.findIndex((r) => (r.intervals as Bounds[])[0].lower !== null);
    const firstPath = outputs.findIndex((r) => (r.intervalPaths as PathBounds[])[0].lower !== null);
    expect(firstPath).toBe(firstStep + 2);
  });

  it('a model with validation residuals publishes bounds from its first forecast on', async () => {
    const file = parseSafetensors(readFileSync(m.modelPath));
    const residuals = Array.from({ length: C }, (_, c) => Array.from({ length: 50 }, (_, i) => ((i % 7) - 3) * 0.01 * (c + 1)));
    const model = modelFromBytes(writeSafetensors(Object.fromEntries(file.tensors), { ...file.metadata, validation_residuals: JSON.stringify({ normalised: residuals, original: residuals }) }));
    const { outputs } = await runPredictor(model, samples.slice(0, 5), { interval: 0.9 });
    for (const r of outputs) {
      const iv = r.interval as Bounds;
      if (r.forecast === null) expect(iv.lower).toBeNull();
      else expectOrdered(iv.lower!, iv.upper!, C);
    }
  });
});
