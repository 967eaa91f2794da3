// `gru-stream serve` as a user runs it (the built CLI in a child process): the bundled demo
// replays the bundled sunspot CSV through the bundled model, and its forecasts are the ones the
// library's predictor makes from those files in this process; --input - reads NDJSON from
// stdin; SIGTERM closes cleanly with exit code 0.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, trainedModels } from '../helpers/fixtures.js';
import { loadModel } from '../../src/model/load-model.js';
import { runPredictor } from '../helpers/run-predictor.js';
import { type Message, connect, readCsv } from './serve-helpers.js';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
let child: ChildProcessWithoutNullStreams | undefined;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/src/cli/main.js is missing: run `npm run build` (npm test does it for you)');
});
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

/** Starts the CLI and resolves with the dashboard URL it prints. */
async function start(args: string[]): Promise<{ url: string; stderr: () => string; stdout: () => string }> {
  child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, env: { ...process.env, GRU_STREAM_TOKEN: '' } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    child!.stdout.on('data', (d) => {
      out += d;
      const m = /gru-stream: dashboard at (http:\/\/\S+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    child!.once('exit', (code) => reject(new Error(`exited ${code} before printing the URL: ${err}`)));
  });
  return { url, stderr: () => err, stdout: () => out };
}

async function stop(): Promise<number | null> {
  const exited = once(child!, 'exit');
  child!.kill('SIGTERM');
  return (await exited)[0] as number | null;
}

describe('gru-stream serve (CLI)', () => {
  it('with no model or data replays the bundled sunspot data through the bundled model; SIGTERM exits 0', async () => {
    // `gru-stream --port 0` is bare `gru-stream` (which defaults to serve) on a free port.
    const { url, stdout, stderr } = await start(['--port', '0', '--rate', '2000']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(stdout()).toContain('series "sunspot_month"');
    const sub = await connect(`${url.replace(/^http/, 'ws')}forecasts?series=sunspot_month`);
    await sub.until(() => sub.count('forecast') >= 300, '300 forecasts');
    const records: Message[] = [...sub.of('history').flatMap((h) => h.forecasts), ...sub.of('forecast')];

    // The reference: the bundled files streamed through a predictor here (the bundled model is made
    // by `gru-stream train`; assets/README.md has the command).
    const table = readCsv(join(repoRoot, 'assets', 'data', 'sunspot_month.csv'));
    const model = await loadModel(join(repoRoot, 'assets', 'models', 'sunspot_gru.safetensors'));
    const { outputs } = await runPredictor(model, table.rows.map((r) => ({ series: 'sunspot_month', value: Number(r[2]) })));
    const rowOfTime = new Map(table.rows.map((r, i) => [Number(r[1]), i]));
    let checked = 0;
    for (const r of records) {
      expect(r.series).toBe('sunspot_month');
      const row = rowOfTime.get(r.t)!;
      expect(r.actual).toEqual([Number(table.rows[row][2])]);
      const want = (outputs[row].forecast as number[])[0];
      expect(Math.abs(r.forecast[0] - want)).toBeLessThanOrEqual(1e-9 * Math.abs(want));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(300);
    await sub.close();
    expect(await stop()).toBe(0);
    expect(stderr()).toContain('SIGTERM received, closing');
  });

  it('--input - forecasts NDJSON from stdin and reports bad lines with their line numbers', async () => {
    const c = trainedModels().find((m) => m.name === 'sunspot_gru')!;
    const { url } = await start(['serve', '--model', c.modelPath, '--port', '0', '--input', '-']);
    const sub = await connect(`${url.replace(/^http/, 'ws')}forecasts`);
    child!.stdin.write('{"series":"s","value":10,"t":1}\nnot json\n{"series":"s","value":"x","t":2}\n{"series":"s","value":12,"t":3}\n');
    child!.stdin.end();
    await sub.until(() => sub.count('forecast') === 2 && sub.count('invalid') === 2, 'two forecasts and two reports');
    expect(sub.of('forecast').map((m) => m.t)).toEqual([1, 3]);
    expect(sub.of('invalid').map((m) => [m.code, m.line])).toEqual([['ERR_PARSE', 2], ['ERR_NON_FINITE', 3]]);
    // The server keeps serving after its input ended.
    const health = await (await fetch(`${url}healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', forecastsOut: 2 });
    await sub.close();
    expect(await stop()).toBe(0);
  });

  it.each([['--input', '/nonexistent/samples.ndjson'], ['--replay', '/nonexistent/rows.csv']])('%s with an unreadable file exits 1 with ERR_INPUT_IO before listening', async (option, path) => {
    child = spawn(process.execPath, [CLI, 'serve', '--port', '0', option, path], { cwd: repoRoot });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(err).toContain('ERR_INPUT_IO');
    expect(out).not.toContain('dashboard at');
  });

  it('refuses bad options with a usage error (exit 2)', async () => {
    child = spawn(process.execPath, [CLI, 'serve', '--port', 'eighty'], { cwd: repoRoot });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toContain('ERR_USAGE');
    expect(err).toContain('--port');
  });
});
