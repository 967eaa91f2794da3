// --replay: rows go out on an absolute schedule at the given rate; with loop, each pass starts from
// a fresh state, so every pass produces the same forecasts, and subscribers are told to reset.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { trainedModels } from '../helpers/fixtures.js';
import { connect, startServer, wsUrl } from './serve-helpers.js';

let handle: ServeHandle | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

const ROWS = 40;
function csvFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gru-replay-'));
  const path = join(dir, 'tiny_series.csv');
  const lines = ['date,time,value', ...Array.from({ length: ROWS }, (_, i) => `x,${2000 + i},${50 + 40 * Math.sin(i / 3)}`)];
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('replay', () => {
  it('never runs ahead of the rate on real time (the exact schedule: replay-schedule.test.ts), names the series after the file, and loops from a fresh state', async () => {
    const model = trainedModels().find((m) => m.name === 'sunspot_gru')!.modelPath;
    const rate = 400;
    const startedAt = performance.now();
    handle = await startServer({ model, replay: csvFile(), rate, loop: true });
    const sub = await connect(wsUrl(handle, '/forecasts?series=tiny_series'));
    await sub.until(() => sub.count('reset') >= 1 && sub.messages.filter((m) => m.type === 'forecast' || m.type === 'history').length > 0 && secondPass().length >= ROWS, 'a full second pass');
    const elapsed = performance.now() - startedAt;
    // The first pass cannot have been faster than the schedule (row k is due at k / rate).
    expect(elapsed).toBeGreaterThanOrEqual(((2 * ROWS - 1) / rate) * 1000 - 5);

    function secondPass() {
      const i = sub.messages.findIndex((m) => m.type === 'reset');
      return i < 0 ? [] : sub.messages.slice(i + 1).filter((m) => m.type === 'forecast');
    }
    const i = sub.messages.findIndex((m) => m.type === 'reset');
    const first = [...sub.messages.slice(0, i).filter((m) => m.type === 'history').flatMap((h) => h.forecasts), ...sub.messages.slice(0, i).filter((m) => m.type === 'forecast')];
    expect(first.map((m) => m.t)).toEqual(Array.from({ length: ROWS }, (_, k) => 2000 + k));
    const second = secondPass().slice(0, ROWS);
    expect(second.map((m) => m.t)).toEqual(first.map((m) => m.t));
    // Reset means the same experiment again: bit-identical forecasts.
    expect(second.map((m) => m.forecast)).toEqual(first.map((m) => m.forecast));
    expect(handle.stats().samplesIn).toBeGreaterThanOrEqual(2 * ROWS);
    await sub.close();
  });

  it('without loop it ends, emits replay-end, and keeps serving', async () => {
    const model = trainedModels().find((m) => m.name === 'sunspot_gru')!.modelPath;
    handle = await startServer({ model, replay: csvFile(), rate: 5000, series: 'named' });
    const ended = new Promise((resolve) => handle!.events.once('replay-end', resolve));
    await ended;
    const sub = await connect(wsUrl(handle, '/forecasts?series=named'));
    await sub.until(() => sub.count('history') === 1, 'history');
    expect(sub.of('history')[0].forecasts).toHaveLength(ROWS);
    await sub.close();
  });
});
