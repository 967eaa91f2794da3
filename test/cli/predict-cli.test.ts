import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { EXIT_REJECTED } from '../../src/cli/predict.js';
import { PREDICTOR_NUMBERS } from '../../src/stream/predictor-options.js';
import { trainedModels } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';

const model = trainedModels().find((m) => m.name.startsWith('sunspot')) ?? trainedModels()[0];

describe('gru-stream predict', () => {
  it('writes one NDJSON record per sample and exits 0 on clean input', async () => {
    const input = [1, 2, 3].map((v) => JSON.stringify({ series: 'a', value: 10 * v, t: v })).join('\n');
    const r = await runCli(['predict', '--model', model.modelPath, '--input', '-'], input);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((x) => [x.series, x.t])).toEqual([['a', 1], ['a', 2], ['a', 3]]);
    for (const x of records) expect(x.forecast).toHaveLength(1);
  });

  it('reports rejected lines on stderr with line numbers and exits 3', async () => {
    const input = ['{"series":"a","value":1}', 'garbage', '{"series":"a","value":"NaN"}', '{"series":"a","value":2}'].join('\n');
    const r = await runCli(['predict', '--model', model.modelPath], input);
    expect(r.code).toBe(EXIT_REJECTED);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/ERR_PARSE: line 2:/);
    expect(r.stderr).toMatch(/ERR_NON_FINITE: line 3:/);
  });

  it('--on-invalid output keeps one record per input line', async () => {
    const input = ['{"series":"a","value":1}', '{"series":"a","values":[1,2]}', '{"series":"a","value":2}'].join('\n');
    const r = await runCli(['predict', '--model', model.modelPath, '--on-invalid', 'output'], input);
    const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(3);
    expect(records[1]).toMatchObject({ line: 2, error: { code: 'ERR_INPUT_WIDTH' } });
  });

  it('usage errors exit 2 with a message; a bad model exits 1 with its code', async () => {
    expect((await runCli(['predict', '--workers', 'many'])).code).toBe(2);
    expect((await runCli(['predict', '--format', 'xml'])).stderr).toMatch(/--format/);
    expect((await runCli(['predict', '--bogus'])).code).toBe(2);
    const missing = await runCli(['predict', '--model', '/nonexistent/model.safetensors']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ERR_MODEL_IO/);
  });

  it("flag ranges are the library's: an out-of-range flag is a usage error naming the flag and the library's range", async () => {
    const { min, max } = PREDICTOR_NUMBERS.capacity;
    for (const [flag, value, option] of [['--capacity', String(min - 1), 'capacity'], ['--horizon', '0', 'horizon'], ['--on-invalid', 'ignore', 'onInvalid'], ['--format', 'xml', 'format']]) {
      const r = await runCli(['predict', '--model', model.modelPath, flag, value], '');
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^gru-stream: ERR_USAGE: ${flag}: options\\.${option} `));
    }
    expect((await runCli(['predict', '--model', model.modelPath, '--capacity', String(min - 1)])).stderr).toContain(`from ${min} to ${max}`);
  });

  it('an unreadable --input is ERR_INPUT_IO before any work, not a stack trace', async () => {
    for (const path of ['/nonexistent/input.csv', tmpdir()]) {
      const r = await runCli(['predict', '--model', model.modelPath, '--input', path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^gru-stream: ERR_INPUT_IO: /);
      expect(r.stdout).toBe('');
    }
  });

  it('--help explains the command; unknown commands fail', async () => {
    const help = await runCli(['predict', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--horizon/);
    expect((await runCli(['--help'])).stdout).toMatch(/predict/);
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });

  it('inspect prints config and metadata as JSON', async () => {
    const r = await runCli(['inspect', model.modelPath]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.config).toMatchObject({ inputSize: expect.any(Number), hiddenSize: expect.any(Number), variant: 'pytorch' });
    expect(info.metadata.format).toBe('gru-forecaster');
    expect((await runCli(['inspect'])).code).toBe(2);
  });
});
