import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { trainedModels } from '../helpers/fixtures.js';

const models = trainedModels();
const model = models.find((m) => m.name.startsWith('sunspot')) ?? models[0];
const work = mkdtempSync(join(tmpdir(), 'gru-resume-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const lines = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ series: `s${(from + i) % 9}`, value: 30 + ((from + i) % 11), seq: Math.floor((from + i) / 9) }));

describe('predict --state-dir: resuming', () => {
  it('a rerun after completion changes nothing; a corrupt newest checkpoint falls back to the previous one and says so', async () => {
    const input = join(work, 'in.ndjson');
    writeFileSync(input, `${lines(3000).join('\n')}\n`);
    const out = join(work, 'out.ndjson');
    const state = join(work, 'state-a');
    const args = ['predict', '--model', model.modelPath, '--input', input, '--output', out, '--state-dir', state];
    const reference = await runCli(['predict', '--model', model.modelPath, '--input', input]);
    expect((await runCli(args)).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(reference.stdout);
    const again = await runCli(args);
    expect(again.stderr).toMatch(/resuming from checkpoint .* input line 3001/);
    expect(readFileSync(out, 'utf8')).toBe(reference.stdout);
    const files = readdirSync(state).sort();
    expect(files).toHaveLength(2);
    const newest = join(state, files[1]);
    const bytes = readFileSync(newest);
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(newest, bytes);
    const fallback = await runCli(args);
    expect(fallback.code).toBe(0);
    expect(fallback.stderr).toMatch(new RegExp(`warning: checkpoint ${files[1].replace(/\./g, '\\.')} skipped \\(checksum mismatch`));
    expect(readFileSync(out, 'utf8')).toBe(reference.stdout);
  });

  it('refuses the checkpoint of another model or another command, with codes, loading nothing', async () => {
    const input = join(work, 'in2.ndjson');
    writeFileSync(input, `${lines(200).join('\n')}\n`);
    const state = join(work, 'state-b');
    const base = ['--input', input, '--output', join(work, 'out2.ndjson'), '--state-dir', state];
    expect((await runCli(['predict', '--model', model.modelPath, ...base])).code).toBe(0);
    const other = models.find((m) => m.modelPath !== model.modelPath && m.modelPath.endsWith('.safetensors'))!;
    const wrongModel = await runCli(['predict', '--model', other.modelPath, ...base]);
    expect(wrongModel.code).toBe(1);
    expect(wrongModel.stderr).toMatch(/ERR_CHECKPOINT_MODEL/);
    const wrongRun = await runCli(['predict', '--model', model.modelPath, ...base, '--horizon', '3']);
    expect(wrongRun.code).toBe(1);
    expect(wrongRun.stderr).toMatch(/ERR_CHECKPOINT_MISMATCH: .*horizon 1 there, 3 now/);
  });

  it('with stdin, a rerun over the whole input skips what the checkpoint applied, by seq: the file equals one run', async () => {
    const all = lines(2700);
    const reference = await runCli(['predict', '--model', model.modelPath], all.join('\n'));
    const out = join(work, 'out3.ndjson');
    const args = ['predict', '--model', model.modelPath, '--output', out, '--state-dir', join(work, 'state-c')];
    // The first run saw only part of the stream (as if it died there after its last checkpoint).
    expect((await runCli(args, all.slice(0, 1000).join('\n'))).code).toBe(0);
    const rest = await runCli(args, all.join('\n'));
    expect(rest.code).toBe(0);
    expect(rest.stderr).toMatch(/duplicates: 1000 /);
    expect(readFileSync(out, 'utf8')).toBe(reference.stdout);
  });
});
