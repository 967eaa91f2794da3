// examples/sensor-fleet.mjs, producer.mjs and subscriber.mjs run as a user would (node, against the
// built package via its 'gru-stream' self-reference), the last two against a real server.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { repoRoot } from '../helpers/fixtures.js';
import { startServer } from './serve-helpers.js';

const run = promisify(execFile);
let handle: ServeHandle;
beforeAll(async () => {
  handle = await startServer({});
});
afterAll(() => handle.close());

describe('serving examples', () => {
  it('sensor-fleet.mjs pipes every sensor reading through createPredictor', async () => {
    const { stdout, stderr } = await run(process.execPath, [join('examples', 'sensor-fleet.mjs'), '20', '50'], { cwd: repoRoot });
    expect(stderr).toBe('');
    expect(stdout).toContain('sensors 20, samples 1000, forecasts 1000, rejected 0');
    expect(stdout).toMatch(/one-step MAE over 980 scored steps: model \d+\.\d{3}, persistence \d+\.\d{3}/);
  });

  it('subscriber.mjs receives what producer.mjs pushes', async () => {
    const base = handle.url.replace(/^http/, 'ws');
    // What the server forecast for the series, to compare with what the subscriber printed.
    const served = new Map<number, number[] | null>();
    const onForecast = (r: { series: string; t: number; forecast: number[] | null }): void => {
      if (r.series === 'example-series') served.set(r.t, r.forecast);
    };
    handle.events.on('forecast', onForecast);
    const sub = spawn(process.execPath, [join('examples', 'subscriber.mjs'), base, 'example-series', '30'], { cwd: repoRoot });
    let out = '';
    sub.stdout.on('data', (d) => (out += d));
    let err = '';
    sub.stderr.on('data', (d) => (err += d));
    // The example prints one line when its socket is open.
    await new Promise<void>((resolve, reject) => {
      sub.stdout.on('data', () => out.includes('connected: forecasts for example-series') && resolve());
      sub.once('exit', (code) => reject(new Error(`subscriber exited ${code}: ${err}`)));
    });
    const producer = await run(process.execPath, [join('examples', 'producer.mjs'), base, 'example-series', '2'], { cwd: repoRoot });
    expect(producer.stdout).toContain('sent 100 samples of example-series, accepted 100');
    const [code] = sub.exitCode === null ? await once(sub, 'exit') : [sub.exitCode];
    expect(code, err).toBe(0);
    const lines = out.trim().split('\n').filter((l) => l.startsWith('example-series t='));
    expect(lines).toHaveLength(30);
    expect(lines[0]).toMatch(/^example-series t=1 actual=\S+ next=\d+\.\d\d$/);
    handle.events.off('forecast', onForecast);
    // The first 30 samples, in order, with the values producer.mjs sent and the server's forecasts.
    lines.forEach((line, i) => {
      const t = i + 1;
      const [, actual, next] = /^example-series t=\d+ actual=(\S+) next=(\S+)$/.exec(line) ?? [];
      expect(line.startsWith(`example-series t=${t} `), line).toBe(true);
      expect(Number(actual)).toBe(80 + 60 * Math.sin(t / 25));
      expect(next).toBe(served.get(t)?.map((v) => v.toFixed(2)).join(',') ?? '-');
    });
  });
});
