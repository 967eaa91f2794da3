// --token: both WebSocket endpoints refuse an upgrade without the right token with HTTP 401,
// before the handshake, so nothing the client sends is read; the right token works as a Bearer
// header and as ?token=.
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { connect, ingestAll, metric, scrape, startServer, upgradeStatus, wsUrl } from './serve-helpers.js';

const TOKEN = 'correct horse battery staple';
let handle: ServeHandle;
beforeAll(async () => {
  handle = await startServer({ token: TOKEN });
});
afterAll(() => handle.close());

describe.each(['/forecasts', '/ingest'])('auth on %s', (path) => {
  it('refuses a missing token, a wrong Bearer header and a wrong ?token= with 401', async () => {
    expect(await upgradeStatus(wsUrl(handle, path))).toBe(401);
    expect(await upgradeStatus(wsUrl(handle, path), { headers: { Authorization: 'Bearer nope' } })).toBe(401);
    expect(await upgradeStatus(wsUrl(handle, path), { headers: { Authorization: `Basic ${TOKEN}` } })).toBe(401);
    expect(await upgradeStatus(wsUrl(handle, `${path}?token=nope`))).toBe(401);
    expect(await upgradeStatus(wsUrl(handle, `${path}?token=`))).toBe(401);
    // A token that is a prefix of the right one is still wrong.
    expect(await upgradeStatus(wsUrl(handle, `${path}?token=${encodeURIComponent(TOKEN.slice(0, -1))}`))).toBe(401);
  });

  it('accepts the right token as a Bearer header and as ?token=', async () => {
    expect(await upgradeStatus(wsUrl(handle, path), { headers: { Authorization: `Bearer ${TOKEN}` } })).toBe(101);
    expect(await upgradeStatus(wsUrl(handle, `${path}?token=${encodeURIComponent(TOKEN)}`))).toBe(101);
  });
});

describe('auth: nothing is processed for a refused client', () => {
  it('frames sent right behind a refused upgrade are never read; the 401 names ERR_AUTH', async () => {
    const before = await scrape(handle);
    const refusedBefore = metric(before.samples, 'gru_stream_auth_failures_total', { endpoint: '/ingest' }) ?? 0;
    // A raw upgrade with a wrong token, immediately followed by a masked text frame holding a sample.
    const payload = Buffer.from(JSON.stringify({ series: 'intruder', value: 1 }));
    const mask = Buffer.from([1, 2, 3, 4]);
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]);
    const response = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(handle.port, '127.0.0.1', () => {
        socket.write(
          'GET /ingest?token=wrong HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
        socket.write(frame);
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(response).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(response).toContain('WWW-Authenticate: Bearer');
    expect(response).toContain('ERR_AUTH');
    const after = await scrape(handle);
    expect(metric(after.samples, 'gru_stream_auth_failures_total', { endpoint: '/ingest' })).toBe(refusedBefore + 1);
    expect(metric(after.samples, 'gru_stream_samples_in_total', { source: 'ingest' }) ?? 0).toBe(0);
    expect(handle.stats().samplesIn).toBe(0);
  });

  it('an authorised producer and subscriber work end to end', async () => {
    const sub = await connect(wsUrl(handle, `/forecasts?series=ok&token=${encodeURIComponent(TOKEN)}`));
    const producer = await connect(wsUrl(handle, '/ingest'), { headers: { Authorization: `Bearer ${TOKEN}` } });
    await ingestAll(producer, [{ series: 'ok', value: 50 }, { series: 'ok', value: 60 }]);
    await sub.until(() => sub.count('forecast', 'ok') === 2, 'two forecasts');
    await Promise.all([sub.close(), producer.close()]);
  });

  it('the dashboard, /healthz and /metrics stay readable without a token', async () => {
    for (const path of ['', 'healthz', 'metrics', 'dashboard.js', 'vendor/uPlot.iife.min.js']) {
      expect((await fetch(`${handle.url}${path}`)).status, path).toBe(200);
    }
  });
});
