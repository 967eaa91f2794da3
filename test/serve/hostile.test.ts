// Malformed and hostile traffic: raw garbage after an upgrade, invalid UTF-8, oversize messages,
// bad JSON, bad samples, bad control messages. Each is answered or closed as documented, counted,
// and the server keeps serving everyone else.
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { DEFAULT_LIMITS } from '../../src/serve/options.js';
import { type Client, connect, ingestAll, metric, scrape, startServer, upgradeStatus, wsUrl } from './serve-helpers.js';

let handle: ServeHandle;
let watcher: Client;
beforeAll(async () => {
  handle = await startServer({});
  // A well-behaved subscriber that must see every forecast whatever the others do.
  watcher = await connect(wsUrl(handle, '/forecasts'));
});
afterAll(async () => {
  await watcher.close();
  await handle.close();
});

/** Completes a real WebSocket handshake on a raw TCP socket, for writing arbitrary bytes after it. */
async function rawUpgrade(path: string): Promise<import('node:net').Socket> {
  const socket = netConnect(handle.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let head = '';
  while (!head.includes('\r\n\r\n')) head += (await once(socket, 'data'))[0].toString('latin1');
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

/** Reads what the server sends until it closes the TCP connection; returns the close code it sent. */
async function closeCodeFrom(socket: import('node:net').Socket): Promise<number> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  await once(socket, 'close');
  const bytes = Buffer.concat(chunks);
  // Server frames are unmasked; find the close frame (opcode 8) and read its 2-byte code.
  for (let i = 0; i + 1 < bytes.length;) {
    const opcode = bytes[i] & 0x0f;
    const len = bytes[i + 1] & 0x7f;
    if (opcode === 8) return bytes.readUInt16BE(i + 2);
    i += 2 + len;
  }
  return -1;
}

async function stillServing(series: string): Promise<void> {
  const producer = await connect(wsUrl(handle, '/ingest'));
  const before = watcher.count('forecast', series);
  await ingestAll(producer, [{ series, value: 1 }, { series, value: 2 }]);
  await watcher.until(() => watcher.count('forecast', series) === before + 2, `forecasts for ${series}`);
  await producer.close();
  expect((await fetch(`${handle.url}healthz`)).status).toBe(200);
}

describe('hostile frames', () => {
  it.each(['/ingest', '/forecasts'])('raw TCP garbage after the upgrade to %s: closed with 1002, server keeps serving', async (path) => {
    const errorsBefore = metric((await scrape(handle)).samples, 'gru_stream_ws_errors_total', { endpoint: path }) ?? 0;
    const socket = await rawUpgrade(path);
    socket.write(Buffer.from('this is not a websocket frame at all \x00\xff\xfe garbage'));
    expect(await closeCodeFrom(socket)).toBe(1002);
    expect(metric((await scrape(handle)).samples, 'gru_stream_ws_errors_total', { endpoint: path })).toBe(errorsBefore + 1);
    await stillServing(`after-garbage${path}`);
  });

  it('an unmasked client frame is a protocol error too (1002)', async () => {
    const socket = await rawUpgrade('/ingest');
    socket.write(Buffer.from([0x81, 0x02, 0x7b, 0x7d])); // "{}" without a mask
    expect(await closeCodeFrom(socket)).toBe(1002);
    await stillServing('after-unmasked');
  });

  it.each(['/ingest', '/forecasts'])('a text message that is not UTF-8 on %s: closed with 1007', async (path) => {
    const client = await connect(wsUrl(handle, path));
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await client.closed).toBe(1007);
    await stillServing(`after-utf8${path}`);
  });

  it.each([['/ingest', DEFAULT_LIMITS.ingestMaxPayload], ['/forecasts', DEFAULT_LIMITS.forecastsMaxPayload]] as const)('a message over maxPayload on %s (%i bytes): closed with 1009, nothing of it processed', async (path, max) => {
    const samplesBefore = handle.stats().samplesIn;
    const errorsBefore = metric((await scrape(handle)).samples, 'gru_stream_ws_errors_total', { endpoint: path }) ?? 0;
    const client = await connect(wsUrl(handle, path));
    // A valid sample, padded past the limit: refused for its size alone.
    client.send(JSON.stringify({ series: 'big', values: [1], pad: 'x'.repeat(max) }));
    expect(await client.closed).toBe(1009);
    expect(client.count('ack')).toBe(0);
    expect(handle.stats().samplesIn).toBe(samplesBefore);
    expect(metric((await scrape(handle)).samples, 'gru_stream_ws_errors_total', { endpoint: path })).toBe(errorsBefore + 1);
    await stillServing(`after-oversize${path}`);
    expect(watcher.count('forecast', 'big')).toBe(0);
  });
});

describe('hostile messages', () => {
  it('/ingest answers bad JSON, binary and bad samples by index, and processes the good ones', async () => {
    const producer = await connect(wsUrl(handle, '/ingest'));
    producer.send('{"series": "x", "value": ');
    await producer.until(() => producer.count('ack') === 1, 'ack for bad JSON');
    expect(producer.of('error')[0]).toMatchObject({ code: 'ERR_PARSE' });
    producer.ws.send(Buffer.from('{"series":"x","value":1}'), { binary: true });
    await producer.until(() => producer.count('ack') === 2, 'ack for binary');
    expect(producer.of('error')[1]).toMatchObject({ code: 'ERR_MESSAGE' });

    const before = watcher.count('forecast', 'mixed');
    producer.send([
      { series: 'mixed', value: 10 },
      { series: 'mixed', values: [1, 2] },
      { series: '', value: 3 },
      { value: 3 },
      { series: 'mixed', value: 'NaN' },
      { series: 'mixed', values: [null] },
      42,
      { series: 'x'.repeat(10_000), value: 1 },
      { series: 'mixed', value: 11, t: { nested: true } },
      { series: 'mixed', value: 12 },
    ]);
    await producer.until(() => producer.count('ack') === 3, 'ack for the batch');
    expect(producer.of('ack')[2]).toEqual({ type: 'ack', upTo: 3, accepted: 2, rejected: 8 });
    const errors = producer.of('error').slice(2);
    expect(errors.map((e) => [e.index, e.code])).toEqual([
      [1, 'ERR_INPUT_WIDTH'], [2, 'ERR_SERIES_ID'], [3, 'ERR_SERIES_ID'], [4, 'ERR_NON_FINITE'], [5, 'ERR_NON_FINITE'],
      [6, 'ERR_SAMPLE_SHAPE'], [7, 'ERR_SERIES_ID'], [8, 'ERR_SAMPLE_SHAPE'],
    ]);
    await watcher.until(() => watcher.count('forecast', 'mixed') === before + 2, 'the two good samples');
    expect(watcher.of('forecast', 'mixed').slice(-2).map((m) => m.actual)).toEqual([[10], [12]]);
    // Subscribers hear about rejects too (the watcher subscribes to everything).
    await watcher.until(() => watcher.of('invalid').some((m) => m.code === 'ERR_INPUT_WIDTH' && m.series === 'mixed'), 'invalid report');
    await producer.close();
  });

  it('/forecasts answers bad control messages with an error and keeps the subscription', async () => {
    const sub = await connect(wsUrl(handle, '/forecasts?series=ctl'));
    sub.send('not json');
    sub.send({ type: 'subscribe', series: 'ctl' });
    sub.send({ type: 'explode' });
    sub.send({ type: 'subscribe', series: [1, 2] });
    sub.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await sub.until(() => sub.count('error') === 5, 'five errors');
    expect(sub.of('error').map((e) => e.code)).toEqual(['ERR_PARSE', 'ERR_MESSAGE', 'ERR_MESSAGE', 'ERR_MESSAGE', 'ERR_MESSAGE']);
    const producer = await connect(wsUrl(handle, '/ingest'));
    await ingestAll(producer, [{ series: 'ctl', value: 1 }]);
    await sub.until(() => sub.count('forecast', 'ctl') === 1, 'forecast after errors');
    await Promise.all([sub.close(), producer.close()]);
  });

  it('?series= with an over-long id is reported after the handshake, with an empty filter', async () => {
    const sub = await connect(wsUrl(handle, `/forecasts?series=${'y'.repeat(300)}`));
    await sub.until(() => sub.count('error') === 1, 'error');
    expect(sub.of('error')[0].code).toBe('ERR_MESSAGE');
    await sub.close();
  });

  it('plain HTTP to a WebSocket path is 426, an upgrade to an unknown path is 404, other methods 405', async () => {
    expect((await fetch(`${handle.url}forecasts`)).status).toBe(426);
    expect((await fetch(`${handle.url}ingest`)).status).toBe(426);
    expect((await fetch(`${handle.url}nope`)).status).toBe(404);
    expect((await fetch(`${handle.url}metrics`, { method: 'POST' })).status).toBe(405);
    expect(await upgradeStatus(wsUrl(handle, '/nope'))).toBe(404);
    await stillServing('after-http');
  });

  it('the watcher never missed a forecast through all of this', async () => {
    expect(watcher.closeCode).toBeUndefined();
    expect(watcher.count('forecast')).toBe(handle.stats().forecastsOut);
  });
});
