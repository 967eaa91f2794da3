// predict's NDJSON row loop as a library call, with a live stdin: records leave as soon as their
// round is stepped (not when more input comes), an input that fails mid-stream rejects the job with
// its error, and an abort on a quiet stream stops it cleanly with a checkpoint.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runPredictJob } from '../../src/job/predict-job.js';
import { loadModel } from '../../src/model/load-model.js';
import { trainedModels } from '../helpers/fixtures.js';

const sample = (series: string, v: number): string => `{"series":"${series}","value":${v}}\n`;

/** A stdout that resolves `until(n)` once n lines have arrived. */
function lineCounter(): { out: Writable; text: () => string; until: (n: number) => Promise<void> } {
  let text = '';
  let waiter: { n: number; resolve: () => void } | null = null;
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      text += chunk.toString();
      if (waiter && text.split('\n').length - 1 >= waiter.n) waiter.resolve();
      cb();
    },
  });
  const until = (n: number): Promise<void> => new Promise((resolve) => {
    if (text.split('\n').length - 1 >= n) return resolve();
    waiter = { n, resolve };
  });
  return { out, text: () => text, until };
}

describe('predict row loop on a live stream', () => {
  const sunspot = trainedModels().find((m) => m.name === 'sunspot_gru')!;

  it('answers every line written so far without waiting for more input, then stops cleanly on abort with a checkpoint', async () => {
    const model = await loadModel(sunspot.modelPath);
    const stdin = new PassThrough();
    const { out, text, until } = lineCounter();
    const stop = new AbortController();
    const stateDir = mkdtempSync(join(tmpdir(), 'gru-row-loop-'));
    const job = runPredictJob({ model, input: '-', stdin, stdout: out, stateDir, signal: stop.signal, workers: 1 });
    stdin.write(Array.from({ length: 50 }, (_, i) => sample(`s${i % 3}`, 40 + i)).join(''));
    await until(50);
    stdin.write(sample('s0', 99));
    await until(51); // a single line in a round of its own, while nothing else comes
    stop.abort();
    const result = await job;
    expect(result.interrupted).toBe(true);
    expect(result.samplesIn).toBe(51);
    expect(result.checkpoints).toBeGreaterThan(0);
    expect(readdirSync(stateDir).length).toBeGreaterThan(0);
    expect(text().split('\n').filter(Boolean).map((l) => JSON.parse(l).series)).toEqual([...Array.from({ length: 50 }, (_, i) => `s${i % 3}`), 's0']);
  });

  it('rejects with the input\'s own error when the stream fails mid-way, after writing what was applied', async () => {
    const model = await loadModel(sunspot.modelPath);
    const stdin = new PassThrough();
    const { out, text, until } = lineCounter();
    const job = runPredictJob({ model, input: '-', stdin, stdout: out });
    stdin.write(sample('a', 10) + sample('a', 11));
    await until(2);
    stdin.destroy(new Error('the producer went away'));
    await expect(job).rejects.toThrow('the producer went away');
    expect(text().split('\n').filter(Boolean)).toHaveLength(2);
  });
});
