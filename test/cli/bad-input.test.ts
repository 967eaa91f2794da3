import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import { runCli } from '../helpers/cli.js';
import { trainedModels } from '../helpers/fixtures.js';

// Each case here pins one way bad input used to cost good output (issue 10, point 4).
const model = trainedModels().find((m) => m.name.startsWith('sunspot')) ?? trainedModels()[0];
const dir = mkdtempSync(join(tmpdir(), 'gru-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = (n: number, series = (i: number) => `s${i % 7}`): string[] =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ series: series(i), value: 50 + (i % 13) }));
const records = (stdout: string): Array<Record<string, unknown>> => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

describe('--on-invalid fail', () => {
  it('writes every record for the lines before a bad sample, then exits 1', async () => {
    const lines = [...good(2000), '{"series":"s1","value":"x"}', ...good(50)];
    const r = await runCli(['predict', '--model', model.modelPath, '--on-invalid', 'fail'], lines.join('\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_NON_FINITE: line 2001/);
    expect(records(r.stdout)).toHaveLength(2000);
  });

  it('also stops at an unparseable line, after the records before it', async () => {
    const lines = [...good(2000), '{"series": oops', ...good(50)];
    const r = await runCli(['predict', '--model', model.modelPath, '--on-invalid', 'fail'], lines.join('\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_PARSE: line 2001/);
    expect(records(r.stdout)).toHaveLength(2000);
  });
});

describe('--on-invalid output', () => {
  it('gives exactly one record per non-blank line, in order, whatever the line holds', async () => {
    const lines = ['{"series":"a","value":1}', 'not json', '', '[1,2]', '42', 'null', '"text"', '{"series":"a","value":2}', '   ', '{"series":"a","values":[1,2]}', '{"series":"a","value":3}'];
    const r = await runCli(['predict', '--model', model.modelPath, '--on-invalid', 'output'], lines.join('\n'));
    const out = records(r.stdout);
    const nonBlank = lines.map((l, i) => ({ l, line: i + 1 })).filter((x) => x.l.trim() !== '');
    expect(out).toHaveLength(nonBlank.length);
    out.forEach((rec, i) => {
      if ('error' in rec) expect(rec.line).toBe(nonBlank[i].line);
      else expect(JSON.parse(nonBlank[i].l).value).toBe((rec.actual as number[] | undefined)?.[0] ?? JSON.parse(nonBlank[i].l).value);
    });
    expect(out.filter((x) => 'forecast' in x)).toHaveLength(3);
    expect(out.map((x) => ('error' in x ? (x.error as { code: string }).code : 'ok'))).toEqual(['ok', 'ERR_PARSE', 'ERR_SAMPLE_SHAPE', 'ERR_SAMPLE_SHAPE', 'ERR_SAMPLE_SHAPE', 'ERR_SAMPLE_SHAPE', 'ok', 'ERR_INPUT_WIDTH', 'ok']);
  });
});

describe('values beyond float32', () => {
  it.each(['1e39', '-1e39', '1.7e308', '-1.7e308'])('%s is rejected with ERR_NON_FINITE', async (v) => {
    const r = await runCli(['predict', '--model', model.modelPath], `{"series":"a","value":${v}}\n{"series":"a","value":5}\n`);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/ERR_NON_FINITE: line 1/);
    expect(records(r.stdout)).toHaveLength(1);
  });
});

describe('error messages', () => {
  it('never echo raw control bytes from the input (ANSI, OSC, C1)', async () => {
    const evil = ['\u001b]0;owned\u0007', '\u001b[2J', '\u009b31m', '\r'];
    const lines = [
      `${evil[0]} not json ${evil[1]}`,
      JSON.stringify({ series: `x${evil[0]}${evil[2]}`, value: 'nope' }),
      JSON.stringify({ series: 'a', values: [1, evil.join('')] }),
      JSON.stringify({ series: 'a', value: 1, t: { bad: evil[1] } }),
    ];
    const r = await runCli(['predict', '--model', model.modelPath, '--on-invalid', 'output'], lines.join('\n'));
    expect(r.stderr.split('\n').filter((l) => l !== '').length).toBeGreaterThanOrEqual(4);
    // eslint-disable-next-line no-control-regex
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stderr).toContain('\\u001b');
  });
});

describe('evictions', () => {
  it('predict says when --capacity is too small: a warning when series restart cold, and a summary with the count', async () => {
    const lines = good(120, (i) => `s${i % 10}`);
    const r = await runCli(['predict', '--model', model.modelPath, '--capacity', '4'], lines.join('\n'));
    expect(r.code).toBe(0);
    expect(records(r.stdout)).toHaveLength(120);
    expect(r.stderr).toMatch(/warning: .*restart(s|ed)? cold/);
    const summary = /evictions: (\d+)/.exec(r.stderr);
    expect(summary).not.toBeNull();
    expect(Number(summary![1])).toBe(120 - 4);
  });
});

describe('CSV cells', () => {
  it('that are text, empty or NaN are reported as what they are', async () => {
    const csv = join(dir, 'cells.csv');
    writeFileSync(csv, 'year,value\n1,10\n2,abc\n3,\n4,NaN\n5,11\n');
    const r = await runCli(['predict', '--model', model.modelPath, '--input', csv]);
    expect(r.code).toBe(3);
    const errors = r.stderr.split('\n').filter((l) => l.includes('ERR_NON_FINITE'));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/line 3: .*"abc"/);
    expect(errors[1]).toMatch(/line 4: .*empty/);
    expect(errors[2]).toMatch(/line 5: .*NaN/);
    for (const e of errors) expect(e).not.toMatch(/null/);
  });
});

describe('model paths that are not regular files', () => {
  it('are refused before reading: /dev/zero and a FIFO', async () => {
    const fifo = join(dir, 'model.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const path of ['/dev/zero', fifo, dir]) {
      const err = await loadModel(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).code).toBe('ERR_MODEL_IO');
    }
  }, 10_000);
});
