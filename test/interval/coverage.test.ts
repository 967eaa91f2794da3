import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module shared with bench/intervals.mjs (pure functions, no types)
import { coverage } from '../../bench/lib/interval-metrics.mjs';
import { loadModel } from '../../src/model/load-model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { runCli } from '../helpers/cli.js';
import { randomModel } from '../model/random-model.js';
import { fixturesDir, trainedModels } from '../helpers/fixtures.js';
import { csvRows, predictWithIntervals, removeScratchDirs, scratchDir, writeCsv, writeWithValidationResiduals } from '../helpers/interval-cases.js';

afterAll(removeScratchDirs);

/**
 * The acceptance bar: 90 % intervals from `gru-stream predict --interval 0.9` cover the next actual
 * 85–95 % of the time from the 50th record on, per column. Models and series are listed from the
 * fixtures (GRU_STREAM_FIXTURES can point at unseen ones), not named.
 */
const LEVEL = 0.9;
const BAND: [number, number] = [0.85, 0.95];
const rescale = (v: number): number => v * 10 + 500;

function expectCalibrated(records: Array<Record<string, unknown>>, what: string): void {
  const { coverage: perColumn, n } = coverage(records, LEVEL, { from: 49 }) as { coverage: number[]; n: number };
  expect(n, what).toBeGreaterThan(40);
  for (const [c, cov] of perColumn.entries()) {
    expect(cov, `${what}, column ${c}: coverage ${cov}`).toBeGreaterThanOrEqual(BAND[0]);
    expect(cov, `${what}, column ${c}: coverage ${cov}`).toBeLessThanOrEqual(BAND[1]);
  }
}

const models = trainedModels();
/** Trending series a level model (not a log-return one) was not trained on, when the fixtures have it. */
const trending = join(fixturesDir, 'data', 'air_passengers.csv');

describe.each(models.map((m) => [m.name, m] as const))('interval coverage at 0.9 (%s)', (_name, m) => {
  const columns = m.expected.config.columns;
  const validation = (m.expected.config as unknown as { validation_rows?: [number, number] }).validation_rows;

  it('on its own series, from `predict --interval 0.9`', async () => {
    expectCalibrated(await predictWithIntervals(m.modelPath, m.csvPath, '0.9'), `${m.name} on its series`);
  });

  it('on its series rescaled and shifted after training (×10 + 500), starting from validation residuals', async () => {
    const dir = scratchDir();
    const rows = csvRows(m.csvPath, columns);
    const model = validation ? await writeWithValidationResiduals(m.modelPath, rows, validation, join(dir, 'with-residuals.safetensors')) : m.modelPath;
    const csv = writeCsv(join(dir, 'rescaled.csv'), columns, rows.map((r) => r.map(rescale)));
    expectCalibrated(await predictWithIntervals(model, csv, '0.9'), `${m.name} on its series ×10+500`);
  });
});

/** Level models (one column, not log returns) and a trending series they never saw, when the fixtures have one. */
const levelModels = existsSync(trending) ? models.filter((m) => m.expected.config.transform !== 'log_return+zscore' && m.expected.config.columns.length === 1) : [];

describe.each(levelModels.map((m) => [m.name, m] as const))('interval coverage at 0.9, biased model (%s)', (_name, m) => {
  const columns = m.expected.config.columns;
  const validation = (m.expected.config as unknown as { validation_rows?: [number, number] }).validation_rows;

  it('biased: a level model on a trending series it never saw, as is and rescaled', async () => {
    const dir = scratchDir();
    const series = csvRows(trending, ['value']);
    const csv = writeCsv(join(dir, 'trend.csv'), columns, series);
    expectCalibrated(await predictWithIntervals(m.modelPath, csv, '0.9'), `${m.name} on air_passengers`);
    const rows = csvRows(m.csvPath, columns);
    const model = validation ? await writeWithValidationResiduals(m.modelPath, rows, validation, join(dir, 'with-residuals.safetensors')) : m.modelPath;
    const scaled = writeCsv(join(dir, 'trend-rescaled.csv'), columns, series.map((r) => r.map(rescale)));
    expectCalibrated(await predictWithIntervals(model, scaled, '0.9'), `${m.name} (validation residuals) on air_passengers ×10+500`);
  });
});

describe('interval coverage at 0.9 for a model that is simply wrong', () => {
  it('an untrained random GRU on every fixture series', async () => {
    const dir = scratchDir();
    const { tensors, metadata } = randomModel('pytorch', { inputSize: 1, hiddenSize: 8, numLayers: 1, outputSize: 1 }, 11);
    const modelPath = join(dir, 'random.safetensors');
    writeFileSync(modelPath, writeSafetensors(tensors, { ...metadata, columns: 'value' }));
    // Every one-column ("value") series of the fixtures.
    const series = readdirSync(join(fixturesDir, 'data')).filter((f) => f.endsWith('.csv') && readFileSync(join(fixturesDir, 'data', f), 'utf8').split('\n')[0].split(',').includes('value'));
    expect(series.length).toBeGreaterThan(0);
    for (const name of series) {
      const csv = writeCsv(join(dir, name), ['value'], csvRows(join(fixturesDir, 'data', name), ['value']));
      expectCalibrated(await predictWithIntervals(modelPath, csv, '0.9'), `random model on ${name}`);
    }
  });
});

describe('interval coverage at 0.9 for models `gru-stream train` makes (with validation residuals)', () => {
  it.each([
    ['air_passengers', 'diff+zscore'],
    ['nottem', 'log_return+zscore'],
  ])('%s, %s: on its series and on it rescaled ×10 + 500', async (name, transform) => {
    const dir = scratchDir();
    const csvPath = join(fixturesDir, 'data', `${name}.csv`);
    const modelPath = join(dir, 'trained.safetensors');
    const trained = await runCli(['train', '--input', csvPath, '--out', modelPath, '--transform', transform, '--hidden', '8', '--ensemble', '1', '--epochs', '20', '--threads', '1', '--quiet']);
    expect(trained.code, trained.stderr).toBe(0);
    expect(JSON.parse((await loadModel(modelPath)).metadata.validation_residuals)).toHaveProperty('original');
    expectCalibrated(await predictWithIntervals(modelPath, csvPath, '0.9'), `trained ${transform} model on ${name}`);
    const rows = csvRows(csvPath, ['value']);
    const scaled = writeCsv(join(dir, 'rescaled.csv'), ['value'], rows.map((r) => r.map(rescale)));
    expectCalibrated(await predictWithIntervals(modelPath, scaled, '0.9'), `trained ${transform} model on ${name} ×10+500`);
  });
});
