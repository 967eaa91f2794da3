// gru-stream train through the real CLI entry (in-process, real files in a temp dir): options, coded
// data errors with lines, byte-identical output for the same seed, a file that predict loads, and the
// validation_residuals contract checked against predict's own forecasts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load-model.js';
import { normalFrom, seededRandom } from '../../src/util/seeded-random.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'gru-train-'));

/** Monthly-like: trend + season 12 + noise, all positive. */
function seasonal(n: number, seed: number, level = 50): number[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, (_, t) => level + 0.3 * t + 8 * Math.sin((2 * Math.PI * t) / 12) + normalFrom(rnd));
}

function csvFile(name: string, header: string, rows: Array<Array<string | number>>): string {
  const path = join(dir, name);
  writeFileSync(path, `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  return path;
}

const values = seasonal(90, 5);
const dataCsv = csvFile('seasonal.csv', 'date,value', values.map((v, i) => [`2000-${i}`, v]));
/** Small and quick, but every stage of a real run: windows, Adam, early stopping, an ensemble. */
const quick = ['--hidden', '6', '--ensemble', '2', '--epochs', '12', '--transform', 'diff+zscore', '--time-budget', '600', '--quiet'];

describe('gru-stream train', () => {
  it('--help lists every option; missing or bad options are usage errors (exit 2)', async () => {
    const help = await runCli(['train', '--help']);
    expect(help.code).toBe(0);
    for (const o of ['--input', '--out', '--hidden', '--layers', '--transform', '--epochs', '--window', '--batch', '--lr', '--weight-decay', '--validation-fraction', '--seed', '--threads', '--time-budget', '--quiet', '--report', '--plot', '--columns']) {
      expect(help.stdout).toContain(o);
    }
    expect((await runCli(['train', '--out', join(dir, 'x.safetensors')])).code).toBe(2);
    expect((await runCli(['train', '--input', dataCsv])).stderr).toMatch(/ERR_USAGE: .*--out/);
    expect((await runCli(['train', '--input', dataCsv, '--out', 'x', '--transform', 'log'])).stderr).toMatch(/--transform/);
    expect((await runCli(['train', '--input', dataCsv, '--out', 'x', '--weight-decay', '-1'])).code).toBe(2);
    expect((await runCli(['train', '--input', dataCsv, '--out', 'x', '--hidden', '0'])).code).toBe(2);
  });

  it.each([
    ['too few rows', csvFile('short.csv', 't,v', [[1, 1], [2, 3], [3, 2]]), [], /ERR_TOO_FEW_ROWS: .*line 4/],
    ['a constant series', csvFile('flat.csv', 't,v', Array.from({ length: 40 }, (_, i) => [i, 5])), [], /ERR_CONSTANT_SERIES: .*lines 2-41/],
    ['a NaN', csvFile('nan.csv', 't,v', Array.from({ length: 40 }, (_, i) => [i, i === 17 ? 'NaN' : i % 7])), [], /ERR_NON_FINITE: line 19:/],
    ['a non-positive value under a log transform', csvFile('neg.csv', 't,v', Array.from({ length: 40 }, (_, i) => [i, i === 30 ? -2 : 1 + (i % 7)])), ['--transform', 'log_return+zscore'], /ERR_NON_FINITE: line 32:/],
  ])('%s: exit 1 with the code and the line', async (_name, path, extra, pattern) => {
    const r = await runCli(['train', '--input', path, '--out', join(dir, 'bad.safetensors'), ...extra]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(pattern);
  });

  it('the same seed gives the same bytes (also on 2 threads); another seed does not; the file loads with our metadata', async () => {
    const out = (n: string): string => join(dir, n);
    expect((await runCli(['train', '--input', dataCsv, '--out', out('a.safetensors'), ...quick])).code).toBe(0);
    expect((await runCli(['train', '--input', dataCsv, '--out', out('b.safetensors'), ...quick])).code).toBe(0);
    expect((await runCli(['train', '--input', dataCsv, '--out', out('t.safetensors'), ...quick, '--threads', '2'])).code).toBe(0);
    expect((await runCli(['train', '--input', dataCsv, '--out', out('c.safetensors'), ...quick, '--seed', '2'])).code).toBe(0);
    const a = readFileSync(out('a.safetensors'));
    expect(readFileSync(out('b.safetensors')).equals(a)).toBe(true);
    expect(readFileSync(out('t.safetensors')).equals(a)).toBe(true);
    expect(readFileSync(out('c.safetensors')).equals(a)).toBe(false);
    const model = await loadModel(out('a.safetensors'));
    expect(model.config).toMatchObject({ inputSize: 1, hiddenSize: 12, numLayers: 1, outputSize: 1, variant: 'pytorch', columns: ['value'], transform: 'diff+zscore', horizon: 1 });
    expect(Object.keys(model.stateDict())).toEqual(['gru.weight_ih_l0', 'gru.weight_hh_l0', 'gru.bias_ih_l0', 'gru.bias_hh_l0', 'head.weight', 'head.bias']);
    expect(model.metadata).toMatchObject({ format: 'gru-forecaster', dataset: 'seasonal', module: 'GRU' });
    expect(JSON.parse(model.metadata.training)).toMatchObject({ seed: 1, members: 2, member_hidden: 6 });
  });

  it('validation_residuals are actual - forecast of `gru-stream predict` on the validation rows', async () => {
    const path = join(dir, 'a.safetensors');
    const model = await loadModel(path);
    const residuals = JSON.parse(model.metadata.validation_residuals);
    const r = await runCli(['predict', '--model', path, '--input', dataCsv]);
    expect(r.code).toBe(0);
    const forecasts = r.stdout.trim().split('\n').map((l) => JSON.parse(l).forecast);
    const validationStart = values.length - Math.round(values.length * 0.2);
    // The forecast printed with row i - 1 is the one for row i.
    const want = values.slice(validationStart).map((v, k) => v - forecasts[validationStart + k - 1][0]);
    expect(residuals.original).toHaveLength(1);
    expect(residuals.original[0]).toHaveLength(want.length);
    residuals.original[0].forEach((x: number, k: number) => expect(x).toBeCloseTo(want[k], 9));
    const std = model.config.normStd[0];
    residuals.normalised[0].forEach((x: number, k: number) => expect(x * std).toBeCloseTo(want[k], 3));
  });

  it('several series and --columns, NDJSON on stdin, --report and --plot', async () => {
    const rows: Array<Array<string | number>> = [];
    const a = seasonal(60, 1, 20);
    const b = seasonal(60, 2, 80);
    for (let i = 0; i < 60; i++) rows.push(['a', i, a[i], 'x'], ['b', i, b[i], 'y']);
    const multi = csvFile('multi.csv', 'series,t,level,label', rows);
    const report = join(dir, 'r.json');
    const plot = join(dir, 'p.svg');
    const r = await runCli(['train', '--input', multi, '--out', join(dir, 'm.safetensors'), ...quick, '--columns', 'level', '--report', report, '--plot', plot]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.series.map((s: { id: string; rows: number }) => [s.id, s.rows])).toEqual([['a', 60], ['b', 60]]);
    expect(rep.runs).toHaveLength(2);
    expect(rep.runs[0].history.length).toBeGreaterThan(0);
    expect(rep.runs[0].history[0]).toHaveProperty('valMae');
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<polyline[\s\S]*<\/svg>\s*$/);
    expect((await loadModel(join(dir, 'm.safetensors'))).config.columns).toEqual(['level']);

    const ndjson = values.map((v) => JSON.stringify({ series: 's', value: v })).join('\n');
    const s = await runCli(['train', '--input', '-', '--out', join(dir, 'n.safetensors'), ...quick.filter((x) => x !== '--quiet')], ndjson);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/validation MAE \(18 rows\): [\d.]+ +persistence [\d.]+/);
    expect(s.stderr).toMatch(/run 2\/2 diff\+zscore H6/);
  });
});
