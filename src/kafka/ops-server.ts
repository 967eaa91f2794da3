import { type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';
import { getRequestUrl, sendJson, sendMetrics } from '../serve/http-routes.js';
import { listen } from '../serve/server.js';

/** GET /healthz (JSON from `health()`, 503 when it says failed) and GET /metrics (Prometheus text). */
export async function startOpsServer(host: string, port: number, registry: Registry, health: () => { failed: boolean; body: object }): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = getRequestUrl(req, res);
    if (!url) return;
    if (url.pathname === '/healthz') {
      const { failed, body } = health();
      return sendJson(res, failed ? 503 : 200, body);
    }
    if (url.pathname === '/metrics') return sendMetrics(res, registry);
    sendJson(res, 404, { error: 'not found; try /healthz or /metrics' });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const bound = await listen(server, { host, port });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    port: bound,
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
