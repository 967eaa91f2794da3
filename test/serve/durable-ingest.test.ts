import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, InputError } from '../../src/errors.js';
import { serve } from '../../src/serve/server.js';
import { trainedModels } from '../helpers/fixtures.js';
import { connect, metric, scrape, startServer, wsUrl } from './serve-helpers.js';

const model = trainedModels().find((m) => m.name.startsWith('sunspot')) ?? trainedModels()[0];
const work = mkdtempSync(join(tmpdir(), 'gru-durable-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const health = async (url: string): Promise<Record<string, number>> => (await fetch(`${url}healthz`)).json() as Promise<Record<string, number>>;
const samples = (series: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ series, value: 40 + ((from + i) % 17), seq: from + i }));

describe('/ingest: seq, acks, duplicates', () => {
  it('acks each message with upTo once applied, drops resent samples by seq and counts them everywhere', async () => {
    const handle = await startServer({ model: model.modelPath });
    try {
      const sub = await connect(wsUrl(handle, '/forecasts'));
      const producer = await connect(wsUrl(handle, '/ingest'));
      producer.send(JSON.stringify(samples('a', 1, 10)));
      producer.send(JSON.stringify(samples('a', 6, 15))); // 6..10 are duplicates
      producer.send(JSON.stringify({ series: 'a', value: 3, seq: 2 }));
      await producer.until(() => producer.count('ack') === 3, 'three acks');
      expect(producer.of('ack').map((a) => a.upTo)).toEqual([1, 2, 3]);
      // An ack means applied: every forecast of the acknowledged messages was already published.
      await sub.until(() => sub.count('forecast') === 15, '15 forecasts');
      expect(sub.of('forecast').map((f) => f.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(handle.stats().duplicates).toBe(6);
      expect((await health(handle.url)).duplicates).toBe(6);
      expect(metric((await scrape(handle)).samples, 'gru_stream_duplicate_samples_total')).toBe(6);
    } finally {
      await handle.close();
    }
  });

  it('/healthz counts rejected ingest messages as /metrics does', async () => {
    const handle = await startServer({ model: model.modelPath });
    try {
      const producer = await connect(wsUrl(handle, '/ingest'));
      producer.send('not json');
      producer.send(JSON.stringify([{ series: 'a', value: 'x' }, { series: 'a', value: 1 }, { value: 2 }]));
      await producer.until(() => producer.count('ack') === 2, 'two acks');
      const total = (await scrape(handle)).samples.filter((s) => s.name === 'gru_stream_rejected_samples_total').reduce((n, s) => n + s.value, 0);
      expect(total).toBe(3);
      expect((await health(handle.url)).rejected).toBe(3);
    } finally {
      await handle.close();
    }
  });
});

describe('serve --state-dir', () => {
  it('sends durable acks, and a restarted server continues exactly where the checkpoint left off', async () => {
    const stateDir = join(work, 'serve-state');
    const all = [...samples('a', 1, 30), ...samples('b', 1, 30)].sort((x, y) => x.seq - y.seq);
    const reference = await startServer({ model: model.modelPath });
    const want = new Map<string, unknown>();
    try {
      const sub = await connect(wsUrl(reference, '/forecasts'));
      const p = await connect(wsUrl(reference, '/ingest'));
      for (let i = 0; i < all.length; i += 10) p.send(JSON.stringify(all.slice(i, i + 10)));
      await sub.until(() => sub.count('forecast') === all.length, 'all forecasts');
      for (const f of sub.of('forecast')) want.set(`${f.series}/${f.seq}`, f.forecast);
    } finally {
      await reference.close();
    }

    const first = await startServer({ model: model.modelPath, stateDir, checkpointIntervalMs: 20 });
    const p1 = await connect(wsUrl(first, '/ingest'));
    for (let i = 0; i < 30; i += 10) p1.send(JSON.stringify(all.slice(i, i + 10)));
    await p1.until(() => p1.of('durable').some((d) => d.upTo === 3), 'durable upTo 3');
    await first.close();

    // Restart: the producer resends everything; what the checkpoint holds is dropped by seq.
    const second = await startServer({ model: model.modelPath, stateDir });
    try {
      const sub = await connect(wsUrl(second, '/forecasts'));
      const p2 = await connect(wsUrl(second, '/ingest'));
      for (let i = 0; i < all.length; i += 10) p2.send(JSON.stringify(all.slice(i, i + 10)));
      await p2.until(() => p2.count('ack') === all.length / 10, 'acks');
      await sub.until(() => sub.count('forecast') === all.length - 30, 'the new forecasts');
      expect(second.stats().duplicates).toBe(30);
      for (const f of sub.of('forecast')) expect(f.forecast).toEqual(want.get(`${f.series}/${f.seq}`));
      // Shutdown takes a last checkpoint and says so to the producer before closing.
      await second.close();
      expect(p2.of('durable').at(-1)?.upTo).toBe(all.length / 10);
    } finally {
      await second.close();
    }
  });

  it("refuses another model's checkpoint with a code, loading nothing", async () => {
    const stateDir = join(work, 'other-model');
    const a = await startServer({ model: model.modelPath, stateDir });
    await a.close();
    const other = trainedModels().find((m) => m.modelPath !== model.modelPath)!;
    const err = await serve({ model: other.modelPath, port: 0, stateDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).code).toBe('ERR_CHECKPOINT_MODEL');
  });
});

describe('serve refuses what it cannot use, before listening', () => {
  it('a --replay file without the model columns, or empty, is a coded error', async () => {
    const noColumn = join(work, 'bad.csv');
    writeFileSync(noColumn, 'year,other\n1,2\n');
    const empty = join(work, 'empty.csv');
    writeFileSync(empty, '\n\n');
    for (const [path, code] of [[noColumn, 'ERR_PARSE'], [empty, 'ERR_INPUT_IO']] as const) {
      const err = await serve({ model: model.modelPath, port: 0, replay: path }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe(code);
    }
  });
});

describe('/forecasts subscription limit', () => {
  it('1024 ids of the longest allowed length fit in one subscribe message', async () => {
    const handle = await startServer({ model: model.modelPath });
    try {
      const sub = await connect(wsUrl(handle, '/forecasts'));
      sub.send({ type: 'unsubscribe' });
      await sub.until(() => sub.count('subscribed') === 1, 'unsubscribed from all');
      const ids = Array.from({ length: 1024 }, (_, i) => `${i}-`.padEnd(256, 'x'));
      sub.send({ type: 'subscribe', series: ids });
      await sub.until(() => sub.count('subscribed') === 2 || sub.count('error') > 0 || sub.closeCode !== undefined, 'reply');
      expect(sub.closeCode).toBeUndefined();
      expect(sub.of('error')).toEqual([]);
      expect(sub.of('subscribed')[1].series).toHaveLength(1024);
    } finally {
      await handle.close();
    }
  });
});

