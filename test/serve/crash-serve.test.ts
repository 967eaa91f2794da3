import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/util/seeded-random.js';
import { repoRoot, trainedModels } from '../helpers/fixtures.js';
import { type Client, connect, startServer, wsUrl } from './serve-helpers.js';

/**
 * `serve --state-dir` under SIGKILL: a producer streams seq-numbered samples to /ingest and keeps
 * every message after its last `durable` ack; the server is SIGKILLed when the producer observes a
 * randomly chosen ack or durable ack, restarted on the same state directory, and the producer
 * resends from its last durable ack on a new connection. A subscriber's records, deduplicated by
 * (series, seq), must equal an uninterrupted server's; records it saw twice must agree too.
 */
const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const model = trainedModels().find((m) => m.name.startsWith('sunspot')) ?? trainedModels()[0];
const work = mkdtempSync(join(tmpdir(), 'gru-crash-serve-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const SERIES = 100;
const PER_SERIES = 60;
const PER_MESSAGE = 20;
const WINDOW = 4;

function messages(): string[] {
  const rand = seededRandom(5);
  const next = new Array<number>(SERIES).fill(1);
  const samples: Array<{ series: string; value: number; seq: number }> = [];
  while (samples.length < SERIES * PER_SERIES) {
    let s = Math.floor(rand() * SERIES);
    while (next[s] > PER_SERIES) s = (s + 1) % SERIES;
    samples.push({ series: `s${s}`, value: Number((10 + 90 * rand()).toFixed(2)), seq: next[s]++ });
  }
  const out: string[] = [];
  for (let i = 0; i < samples.length; i += PER_MESSAGE) out.push(JSON.stringify(samples.slice(i, i + PER_MESSAGE)));
  return out;
}

async function startCli(stateDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', model.modelPath, '--port', '0', '--state-dir', stateDir, '--checkpoint-interval', '0.03'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /dashboard at (http:\/\/\S+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, url };
}

/** Sends messages from `from` with at most WINDOW unacknowledged; resolves when `stop()` says so or all are acked. */
async function produce(producer: Client, all: string[], from: number, sentGlobal: number[], stop: () => boolean): Promise<void> {
  let next = from;
  while (!stop()) {
    const acked = producer.count('ack');
    if (next < all.length && sentGlobal.length - acked < WINDOW) {
      sentGlobal.push(next);
      producer.send(all[next++]);
      continue;
    }
    if (next >= all.length && acked === sentGlobal.length) return;
    await producer.until(() => stop() || producer.count('ack') > acked, 'an ack');
  }
}

async function collectReference(all: string[]): Promise<Map<string, string>> {
  const handle = await startServer({ model: model.modelPath });
  try {
    const sub = await connect(wsUrl(handle, '/forecasts'));
    const producer = await connect(wsUrl(handle, '/ingest'));
    await produce(producer, all, 0, [], () => false);
    await sub.until(() => sub.count('forecast') === SERIES * PER_SERIES, 'every forecast');
    return new Map(sub.of('forecast').map((f) => [`${f.series}/${f.seq}`, JSON.stringify(f.forecast)]));
  } finally {
    await handle.close();
  }
}

describe('serve --state-dir under SIGKILL', () => {
  it('subscriber records, deduplicated by (series, seq), equal an uninterrupted run after kills and resends', async () => {
    const all = messages();
    const want = await collectReference(all);
    expect(want.size).toBe(SERIES * PER_SERIES);

    const stateDir = join(work, 'state');
    const rand = seededRandom(11);
    const got = new Map<string, string>();
    let mismatchedRepeats = 0;
    /** Folds a subscriber's forecasts (from `seen` on) into `got`; a record seen twice must agree. */
    const fold = (sub: Client, seen: { at: number }): number => {
      for (; seen.at < sub.messages.length; seen.at++) {
        const m = sub.messages[seen.at];
        if (m.type !== 'forecast') continue;
        const key = `${m.series}/${m.seq}`;
        const f = JSON.stringify(m.forecast);
        if (got.has(key) && got.get(key) !== f) mismatchedRepeats++;
        got.set(key, f);
      }
      return got.size;
    };
    let durableGlobal = -1; // the last message a checkpoint holds
    let kills = 0;
    for (let round = 0; round < 20; round++) {
      const { child, url } = await startCli(stateDir);
      const exited = once(child, 'exit');
      const base = url.replace(/^http/, 'ws');
      const sub = await connect(`${base}forecasts`);
      const seen = { at: 0 };
      const producer = await connect(`${base}ingest`);
      const sentGlobal: number[] = [];
      producer.ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString());
        if (m.type === 'durable') durableGlobal = Math.max(durableGlobal, sentGlobal[m.upTo - 1]);
      });
      const killing = kills < 4;
      // The moment: the n-th durable ack, or the m-th ack, of this connection.
      const byDurable = rand() < 0.5;
      const n = byDurable ? 1 + Math.floor(rand() * 3) : 5 + Math.floor(rand() * 40);
      const due = (): boolean => killing && (byDurable ? producer.count('durable') >= n : producer.count('ack') >= n);
      await produce(producer, all, durableGlobal + 1, sentGlobal, due);
      if (killing && due()) {
        child.kill('SIGKILL');
        const [, signal] = await exited;
        expect(signal).toBe('SIGKILL');
        expect(sentGlobal.at(-1)! < all.length - 1 || producer.count('ack') < sentGlobal.length).toBe(true);
        kills++;
        await Promise.all([sub.closed, producer.closed]);
        fold(sub, seen);
        continue;
      }
      // Everything acknowledged by a live server: wait for the subscriber to have every record.
      await sub.until(() => fold(sub, seen) === want.size, 'every record');
      child.kill('SIGTERM');
      await exited;
      break;
    }
    expect(kills).toBe(4);
    expect(mismatchedRepeats).toBe(0);
    expect(got.size).toBe(want.size);
    for (const [key, f] of want) expect(got.get(key), key).toBe(f);
  }, 90_000);
});
