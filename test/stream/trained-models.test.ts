// Parity of the whole streaming path with the trained forecasters in ../shared/fixtures/models:
// CSV in through the real CLI (child process, real pipes), NDJSON out, against *.expected.json.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot, trainedModels } from '../helpers/fixtures.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const models = trainedModels();
/** Each trained model, and its ONNX export where there is one: both must reproduce the expected forecasts. */
const files = models.flatMap((m) => {
  const onnx = m.modelPath.replace(/\.safetensors$/, '.onnx');
  return [m, ...(existsSync(onnx) ? [{ ...m, name: `${m.name}.onnx`, modelPath: onnx }] : [])];
});

/** The normalised forecast a record implies, inverting the model's transform exactly. */
function normalised(forecast: number[], actual: number[], transform: string, mean: number[], std: number[]): number[] {
  return forecast.map((f, c) => (transform === 'log_return+zscore' ? Math.log(f / actual[c]) : f) - mean[c]).map((z, c) => z / std[c]);
}

describe('gru-stream predict reproduces trained models', () => {
  it('finds trained models', () => expect(models.length).toBeGreaterThan(0));

  it('finds an ONNX export among them', () => expect(files.some((f) => f.modelPath.endsWith('.onnx'))).toBe(true));

  it.each(files.map((m) => [m.name, m] as const))('%s: one record per CSV row, forecasts within 1e-4 normalised', async (_name, m) => {
    const { stdout } = await run(process.execPath, [cli, 'predict', '--model', m.modelPath, '--input', m.csvPath, '--with-actual'], { maxBuffer: 1 << 28 });
    const records = stdout.trim().split('\n').map((l) => JSON.parse(l));
    const rows = readFileSync(m.csvPath, 'utf8').trim().split('\n').length - 1;
    expect(records).toHaveLength(rows);
    const { config, forecast_target_start: start } = m.expected;
    const mean = (config as unknown as { norm_mean: number[] }).norm_mean;
    // forecasts[j] targets CSV row j + start, so it is made when row j + start - 1 arrives.
    const firstForecastRow = start - 1;
    for (let row = 0; row < rows; row++) {
      const rec = records[row];
      if (row < firstForecastRow) {
        expect(rec.forecast).toBeNull();
        continue;
      }
      const j = row - firstForecastRow;
      const want = m.expected.forecasts_normalised[j];
      const got = normalised(rec.forecast, rec.actual, config.transform, mean, config.norm_std);
      for (let c = 0; c < want.length; c++) expect(Math.abs(got[c] - want[c])).toBeLessThan(1e-4);
      for (let c = 0; c < want.length; c++) {
        const scale = config.norm_std[c] * (config.transform === 'log_return+zscore' ? rec.actual[c] : 1);
        expect(Math.abs(rec.forecast[c] - m.expected.forecasts[j][c])).toBeLessThan(1e-4 * scale);
      }
    }
    expect(records.filter((r) => r.forecast !== null)).toHaveLength(m.expected.forecasts.length);
  });

  it.each(models.map((m) => [m.name, m] as const))('%s: 5 interleaved copies with --workers 2 each equal the single-series run, in input order', async (_name, m) => {
    const { stdout: single } = await run(process.execPath, [cli, 'predict', '--model', m.modelPath, '--input', m.csvPath, '--with-actual'], { maxBuffer: 1 << 28 });
    const base = single.trim().split('\n').map((l) => JSON.parse(l));
    const copies = 5;
    const lines: string[] = [];
    for (const rec of base) for (let k = 0; k < copies; k++) lines.push(JSON.stringify({ series: `copy-${k}`, values: rec.actual, t: rec.t }));
    const child = execFile(process.execPath, [cli, 'predict', '--model', m.modelPath, '--input', '-', '--workers', '2'], { maxBuffer: 1 << 28 });
    const done = new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    child.stdin!.end(`${lines.join('\n')}\n`);
    const records = (await done).trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(base.length * copies);
    records.forEach((rec, i) => {
      const want = base[Math.floor(i / copies)];
      expect(rec.series).toBe(`copy-${i % copies}`);
      expect(rec.t).toEqual(want.t);
      expect(rec.forecast).toEqual(want.forecast);
    });
  });
});
