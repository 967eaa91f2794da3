import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Ping every client each interval; one that has not answered the previous ping by the next tick
 * is terminated (no close handshake: a dead peer would never complete it). Without this a client
 * whose network vanished keeps its socket, its subscription and its buffers until TCP gives up,
 * which can take many minutes.
 */
export function startHeartbeat(wss: WebSocketServer, intervalMs: number): () => void {
  const alive = new WeakMap<WebSocket, boolean>();
  const onConnection = (ws: WebSocket): void => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
  };
  wss.on('connection', onConnection);
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    wss.off('connection', onConnection);
  };
}
