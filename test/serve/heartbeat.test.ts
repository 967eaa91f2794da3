// Heartbeats: a peer that stops answering pings is terminated; one that answers stays.
// Real server, real ws clients; the test waits on ping and close events, not on timers.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServeHandle } from '../../src/serve/server.js';
import { startServer } from './serve-helpers.js';

let handle: ServeHandle;
beforeAll(async () => {
  handle = await startServer({ limits: { heartbeatMs: 50 } });
});
afterAll(() => handle.close());

describe('heartbeat', () => {
  it.each(['forecasts', 'ingest'])('/%s: a peer that never pongs is terminated; a live one is kept', async (path) => {
    const url = `${handle.url.replace(/^http/, 'ws')}${path}`;
    const dead = new WebSocket(url, { autoPong: false });
    const live = new WebSocket(url);
    dead.on('error', () => {});
    await Promise.all([once(dead, 'open'), once(live, 'open')]);
    let livePings = 0;
    live.on('ping', () => livePings++);
    const [code] = await once(dead, 'close');
    // Terminated without a close handshake: the client sees an abnormal closure.
    expect(code).toBe(1006);
    // The live peer saw the same ping rounds (at least the one the dead peer failed) and is still open.
    if (livePings < 2) await new Promise<void>((resolve) => live.on('ping', () => livePings >= 2 && resolve()));
    expect(live.readyState).toBe(WebSocket.OPEN);
    live.close();
    await once(live, 'close');
  });
});
