// A subscriber that stops reading (its TCP socket paused) among many that read: the others get
// every forecast, the stalled one is coalesced (newest per series) and then closed with 4008, and
// what the server holds for it stays bounded throughout.
import { afterEach, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { type Client, connect, ingestAll, metric, scrape, startServer, wsUrl } from './serve-helpers.js';

let handle: ServeHandle | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

// Long ids make each forecast message ~500 bytes, so the kernel's socket buffers fill sooner.
const SERIES = Array.from({ length: 20 }, (_, i) => `s${i}-${'x'.repeat(200)}`);
const HIGH_WATER = 64 * 1024;

describe('slow subscribers', () => {
  it('never stall the others; coalesced while behind, then closed with 4008; memory stays bounded', async () => {
    handle = await startServer({ limits: { subscriberHighWater: HIGH_WATER, slowCloseMs: 400, history: 10 } });
    const readers: Client[] = [];
    for (let i = 0; i < 6; i++) readers.push(await connect(wsUrl(handle, '/forecasts')));
    const stalled = await connect(wsUrl(handle, '/forecasts'));
    // Stop reading: the kernel buffers fill, then ws's bufferedAmount on the server side grows.
    (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const slowClosed = new Promise<{ id: number; pending: number; bufferedAmount: number }>((resolve) => handle!.events.once('slow-close', resolve));
    let closedInfo: { pending: number; bufferedAmount: number } | undefined;
    void slowClosed.then((info) => (closedInfo = info));

    const producer = await connect(wsUrl(handle, '/ingest'));
    let sent = 0;
    let maxBuffered = 0;
    let maxPending = 0;
    // Push until the server gives up on the stalled client (bounded, in case it never does).
    for (let round = 0; closedInfo === undefined && round < 2000; round++) {
      const batch = Array.from({ length: 300 }, (_, i) => ({ series: SERIES[(sent + i) % SERIES.length], value: ((sent + i) % 97) + 0.5 }));
      await ingestAll(producer, batch, 100);
      sent += batch.length;
      for (const s of handle.subscribers()) {
        maxBuffered = Math.max(maxBuffered, s.bufferedAmount);
        maxPending = Math.max(maxPending, s.pending);
      }
      // Let the hub's sweep timer run between rounds (it checks how long the client has been behind).
      await new Promise((resolve) => setImmediate(resolve));
    }
    const info = await slowClosed;
    expect(info.pending).toBeGreaterThan(0);

    // Bounded: no more than the high-water mark plus one burst of sends (one ingest message's
    // forecasts, ~300 small messages), and at most one pending message per series and type.
    expect(maxBuffered).toBeLessThan(HIGH_WATER + 300 * 600);
    expect(maxPending).toBeLessThanOrEqual(SERIES.length * 3 + 2);

    // Every reader got every forecast, in order, none coalesced.
    const total = handle.stats().forecastsOut;
    expect(total).toBe(sent);
    for (const r of readers) await r.until(() => r.count('forecast') === total, 'every forecast');
    for (const r of readers) expect(r.closeCode).toBeUndefined();
    const order = readers[0].of('forecast').map((m) => `${m.series}:${m.t}`);
    for (const r of readers.slice(1)) expect(r.of('forecast').map((m) => `${m.series}:${m.t}`)).toEqual(order);

    // The stalled client, once it reads again, finds fewer messages than were produced and the 4008 close.
    (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    expect(await stalled.closed).toBe(4008);
    expect(stalled.closeReason).toContain('ERR_SLOW_CONSUMER');
    expect(stalled.count('forecast')).toBeLessThan(total);

    const { samples } = await scrape(handle);
    expect(metric(samples, 'gru_stream_slow_subscriber_closes_total')).toBe(1);
    expect(metric(samples, 'gru_stream_dropped_messages_total')).toBeGreaterThan(0);
    expect(metric(samples, 'gru_stream_subscribers')).toBe(readers.length);
    await Promise.all([...readers.map((r) => r.close()), producer.close()]);
  });

  it('a subscriber that falls behind briefly and catches up is flushed the newest message per series, not closed', async () => {
    handle = await startServer({ limits: { subscriberHighWater: 1024, slowCloseMs: 60_000, history: 10 } });
    const sub = await connect(wsUrl(handle, '/forecasts'));
    const socket = (sub.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    const producer = await connect(wsUrl(handle, '/ingest'));
    // Enough to fill the kernel buffers and go past the 1 KiB mark.
    let sent = 0;
    while (!handle.subscribers().some((s) => s.pending > 0) && sent < 500_000) {
      await ingestAll(producer, Array.from({ length: 500 }, (_, i) => ({ series: SERIES[i % 4], value: i % 50 })), 100);
      sent += 500;
    }
    expect(handle.subscribers()[0].pending).toBeGreaterThan(0);
    // One marker per series, the newest: these must arrive even though older ones were dropped.
    await ingestAll(producer, SERIES.slice(0, 4).map((series) => ({ series, value: 1234.5 })));
    socket.resume();
    await sub.until(() => SERIES.slice(0, 4).every((s) => sub.of('forecast', s).at(-1)?.actual[0] === 1234.5), 'newest per series');
    expect(sub.closeCode).toBeUndefined();
    expect(sub.count('forecast')).toBeLessThan(sent + 4);
    await Promise.all([sub.close(), producer.close()]);
  });
});
