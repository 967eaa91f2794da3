// `npm start` (scripts/start.mjs) honours PORT and HOST, and a --port flag after them wins.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.js';

const START = join(repoRoot, 'scripts', 'start.mjs');

/** Runs the start script, returns the dashboard URL it prints, then stops it with SIGTERM and returns its exit code. */
async function startAndStop(env: Record<string, string>, args: string[]): Promise<{ url: string; health: unknown; code: number | null }> {
  const child = spawn(process.execPath, [START, ...args], { cwd: repoRoot, env: { ...process.env, PORT: '', HOST: '', GRU_STREAM_TOKEN: '', ...env } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = once(child, 'exit');
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /gru-stream: dashboard at (http:\/\/\S+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before printing the URL: ${err}`)));
    });
    const health = await (await fetch(`${url}healthz`)).json();
    child.kill('SIGTERM');
    return { url, health, code: (await exited)[0] as number | null };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describe('npm start', () => {
  it('listens on HOST and PORT from the environment (PORT=0: a free port)', async () => {
    const r = await startAndStop({ PORT: '0', HOST: '127.0.0.1' }, []);
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(new URL(r.url).port).not.toBe('8080');
    expect(r.health).toMatchObject({ status: 'ok' });
    expect(r.code).toBe(0);
  });

  it('a --port flag after `npm start --` overrides PORT', async () => {
    // An unusable PORT is refused as a usage error (exit 2): the run below listens only if the flag wins.
    const r = await startAndStop({ PORT: 'not-a-port' }, ['--port', '0']);
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(r.code).toBe(0);
  });
});
