import { type ChildProcess, spawn } from 'node:child_process';
import { type FSWatcher, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/util/seeded-random.js';
import { repoRoot, trainedModels } from '../helpers/fixtures.js';

/**
 * Exactly-once `predict --state-dir --output` under SIGKILL: a seeded 200,000-line, 1,000-series
 * input (with some unparseable lines, so error records and the rejected count must survive too) is
 * run uninterrupted once, then again under a killer that SIGKILLs the process at moments chosen by
 * what it observes (the output file growing past a random size, or a random number of new
 * checkpoint files), reruns the same command, and repeats. The finished file must equal the
 * uninterrupted run's byte for byte, with the same exit code.
 */
const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const model = trainedModels().find((m) => m.name.startsWith('sunspot')) ?? trainedModels()[0];
const work = mkdtempSync(join(tmpdir(), 'gru-crash-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function makeInput(path: string, lines: number, series: number, seed: number): void {
  const rand = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    if (i % 9973 === 9972) out.push('{"series": broken');
    else out.push(`{"series":"s${Math.floor(rand() * series)}","value":${(20 + 80 * rand()).toFixed(3)}}`);
  }
  writeFileSync(path, `${out.join('\n')}\n`);
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function exited(child: ChildProcess, stderr: () => string): Promise<Exit> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr: stderr() })));
}

function run(args: string[]): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [CLI, 'predict', '--model', model.modelPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return { child, done: exited(child, () => err) };
}

describe('predict --state-dir --output under SIGKILL', () => {
  it('finishes with exactly the bytes of an uninterrupted run, however often it was killed', async () => {
    const input = join(work, 'in.ndjson');
    makeInput(input, 200_000, 1000, 20261129);
    const common = ['--input', input, '--on-invalid', 'output'];

    const reference = join(work, 'reference.ndjson');
    const clean = await run([...common, '--output', reference]).done;
    expect(clean.code).toBe(3); // the unparseable lines
    const want = readFileSync(reference);
    expect(want.toString().split('\n').length - 1).toBe(200_000);

    const out = join(work, 'out.ndjson');
    const state = join(work, 'state');
    const rand = seededRandom(7);
    const kills: Array<{ by: string; size: number }> = [];
    let resumes = 0;
    let last: Exit | null = null;
    for (let attempt = 0; attempt < 40; attempt++) {
      const { child, done } = run([...common, '--output', out, '--state-dir', state, '--checkpoint-interval', '0.05']);
      const killing = kills.length < 8;
      // Alternate the trigger: the output passing a random size, or the n-th checkpoint file to appear.
      const bySize = kills.length % 2 === 0;
      const target = Math.floor(want.length * (0.05 + 0.9 * rand()));
      const nth = 1 + Math.floor(rand() * 4);
      let seen = 0;
      const watchers: FSWatcher[] = [];
      const kill = (by: string): void => {
        if (child.exitCode !== null || child.signalCode !== null || child.killed) return;
        child.kill('SIGKILL');
        kills.push({ by, size: existsSync(out) ? statSync(out).size : 0 });
      };
      if (killing) {
        watchers.push(watch(work, () => {
          if (bySize && existsSync(out) && statSync(out).size >= target) kill('output size');
        }));
        if (!existsSync(state)) await new Promise<void>((r) => { const w = watch(work, () => existsSync(state) && (w.close(), r())); });
        watchers.push(watch(state, (_event, name) => {
          if (!bySize && typeof name === 'string' && name.endsWith('.ckpt') && ++seen >= nth) kill('checkpoint');
        }));
      }
      last = await done;
      for (const w of watchers) w.close();
      if (/resuming from checkpoint/.test(last.stderr)) resumes++;
      if (last.signal === null) break;
      expect(last.signal).toBe('SIGKILL');
    }
    // The killer really struck mid-run, several times, and later runs resumed from checkpoints.
    expect(kills.length).toBe(8);
    for (const k of kills) expect(k.size).toBeLessThan(want.length);
    expect(kills.some((k) => k.by === 'checkpoint') && kills.some((k) => k.by === 'output size')).toBe(true);
    expect(resumes).toBeGreaterThanOrEqual(5);
    expect(last!.code).toBe(clean.code);
    const got = readFileSync(out);
    expect(got.length).toBe(want.length);
    expect(got.equals(want)).toBe(true);
    expect(readdirSync(state).filter((f) => f.endsWith('.ckpt')).length).toBeLessThanOrEqual(2);
  }, 120_000);
});
