import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/util/seeded-random.js';
import { runCli } from '../helpers/cli.js';
import { trainedModels } from '../helpers/fixtures.js';

/**
 * Bad input never costs a good record: 100,000+ lines where good samples of 40 series are mixed
 * with every kind of bad line (unparseable, not an object, bad values aimed at the good series
 * themselves, beyond float32, control bytes, wrong widths, bad ids, blank lines). Every good
 * series' records must equal a run over the good lines alone, byte for byte, and with
 * --on-invalid output there is exactly one record per non-blank line.
 */
const model = trainedModels().find((m) => m.name.startsWith('sunspot')) ?? trainedModels()[0];

function badLine(rand: () => number, target: string): string {
  const kinds = [
    () => '{"series": "x", "value": ',
    () => 'not json at all \u001b[31m',
    () => '[1, 2, 3]',
    () => '42',
    () => 'null',
    () => JSON.stringify({ series: target, value: 'NaN' }),
    () => JSON.stringify({ series: target, value: null }),
    () => `{"series":"${target}","value":1e39}`,
    () => `{"series":"${target}","value":-1.7e308}`,
    () => JSON.stringify({ series: target, values: [1, 2] }),
    () => JSON.stringify({ series: target }),
    () => JSON.stringify({ series: '', value: 3 }),
    () => JSON.stringify({ series: 'x'.repeat(300), value: 3 }),
    () => JSON.stringify({ series: target, value: 3, t: { nested: true } }),
    () => JSON.stringify({ series: target, value: 3, seq: -1 }),
    () => JSON.stringify({ value: 3 }),
    () => `{"series":"${target}\u0007","value":"\u009b2J"}`,
  ];
  return kinds[Math.floor(rand() * kinds.length)]();
}

describe('fuzz: mixed good and bad lines', () => {
  it('every good series forecasts exactly as in a clean run', async () => {
    const rand = seededRandom(99);
    const all: string[] = [];
    const clean: string[] = [];
    let bad = 0;
    while (all.length < 100_000) {
      const series = `g${Math.floor(rand() * 40)}`;
      const r = rand();
      if (r < 0.3) {
        all.push(badLine(rand, series));
        bad++;
      } else if (r < 0.33) {
        all.push(r < 0.315 ? '' : '   ');
      } else {
        const line = JSON.stringify({ series, value: Number((5 + 200 * rand()).toFixed(2)) });
        all.push(line);
        clean.push(line);
      }
    }
    const want = await runCli(['predict', '--model', model.modelPath], clean.join('\n'));
    expect(want.code).toBe(0);
    const mixed = await runCli(['predict', '--model', model.modelPath], all.join('\n'));
    expect(mixed.code).toBe(3);
    expect(mixed.stdout).toBe(want.stdout);
    expect(mixed.stderr.split('\n').filter((l) => l.startsWith('gru-stream: ERR_')).length).toBe(bad);
    // eslint-disable-next-line no-control-regex
    expect(mixed.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);

    const output = await runCli(['predict', '--model', model.modelPath, '--on-invalid', 'output'], all.join('\n'));
    const records = output.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBe(all.filter((l) => l.trim() !== '').length);
    expect(records.filter((r) => 'error' in r).length).toBe(bad);
    const good = records.filter((r) => !('error' in r)).map((r) => `${JSON.stringify(r)}\n`).join('');
    expect(good).toBe(want.stdout);
  }, 60_000);
});
