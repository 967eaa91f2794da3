// serve --input FILE --state-dir DIR: the file's position is checkpointed with the state, so a
// server stopped part-way (or after the end) and started again on the same directory reads the
// file on from where its state stands: every line is forecast exactly once across the runs, and
// equal to one `gru-stream predict` over the whole file. Lines appended between runs are read too.
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Forecast } from '../../src/stream/predictor.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { runCli } from '../helpers/cli.js';
import { trainedModels } from '../helpers/fixtures.js';
import { startServer } from './serve-helpers.js';

const model = trainedModels().find((m) => m.name.startsWith('sunspot')) ?? trainedModels()[0];
const work = mkdtempSync(join(tmpdir(), 'gru-serve-input-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function lines(from: number, count: number): string {
  const rand = seededRandom(from + 1);
  let text = '';
  for (let i = from; i < from + count; i++) text += `{"series":"s${i % 7}","value":${(20 + 80 * rand()).toFixed(2)}}\n`;
  return text;
}

const key = (r: { series: string; t: number | string }): string => `${r.series}@${r.t}`;

describe('serve --input with --state-dir', () => {
  it('reads the file on from the checkpoint after a stop part-way and after appends: each line forecast once, as predict does', async () => {
    const input = join(work, 'samples.ndjson');
    const stateDir = join(work, 'state');
    writeFileSync(input, lines(0, 3000));
    const seen = new Map<string, Forecast>();
    const run = async (stopAfter: number | null): Promise<number> => {
      const handle = await startServer({ model: model.modelPath, port: 0, input, stateDir, checkpointIntervalMs: 20 });
      let got = 0;
      const ended = once(handle.events, 'input-end');
      // Records that arrive while the server shuts down count too: they were applied.
      const reached = new Promise<void>((resolve) => {
        handle.events.on('forecast', (r: Forecast) => {
          expect(seen.has(key(r)), `${key(r)} forecast twice`).toBe(false);
          seen.set(key(r), r);
          if (++got === stopAfter) resolve();
        });
      });
      await (stopAfter === null ? ended : reached);
      await handle.close();
      return got;
    };
    const first = await run(700);
    expect(first).toBeGreaterThanOrEqual(700);
    expect(first).toBeLessThan(3000);
    expect(await run(null)).toBe(3000 - first);
    appendFileSync(input, lines(3000, 500));
    expect(await run(null)).toBe(500);
    expect(seen.size).toBe(3500);

    const predict = await runCli(['predict', '--model', model.modelPath, '--input', input]);
    expect(predict.code).toBe(0);
    const want = predict.stdout.trim().split('\n').map((l) => JSON.parse(l) as Forecast);
    expect(want).toHaveLength(3500);
    for (const w of want) expect(seen.get(key(w))?.forecast, key(w)).toEqual(w.forecast);
  });
});
