import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { GruStreamError } from '../errors.js';
import { isAuthorized, refuseUpgrade } from './auth.js';
import { CLOSE_GOING_AWAY } from './close-codes.js';
import { handleForecastsConnection } from './forecasts-endpoint.js';
import { startHeartbeat } from './heartbeat.js';
import { type IngestContext, handleIngestConnection } from './ingest.js';
import type { ResolvedServeOptions } from './options.js';
import type { ServePipeline } from './pipeline.js';
import { requestUrl } from './request-url.js';

/** How long peers get to answer our close frame at shutdown before they are cut off. */
const CLOSE_HANDSHAKE_MS = 1_000;

/**
 * The two WebSocket endpoints, /forecasts (subscribers) and /ingest (producers), reached through
 * the HTTP server's 'upgrade' event. An upgrade is refused, before any WebSocket exists, when the
 * path is unknown (404), the token is missing or wrong (401) or the server is closing (503).
 * Each endpoint has its own ws server (noServer) so each has its own payload limit and heartbeat.
 */
export class WebSocketEndpoints {
  private readonly forecasts: WebSocketServer;
  private readonly ingest: WebSocketServer;
  private readonly stopHeartbeats: Array<() => void>;
  private readonly ingestContext: IngestContext;
  private closing = false;

  constructor(
    private readonly pipeline: ServePipeline,
    private readonly opts: ResolvedServeOptions,
  ) {
    const { limits } = opts;
    const wsOptions = { noServer: true, perMessageDeflate: false, clientTracking: true } as const;
    this.forecasts = new WebSocketServer({ ...wsOptions, maxPayload: limits.forecastsMaxPayload });
    this.ingest = new WebSocketServer({ ...wsOptions, maxPayload: limits.ingestMaxPayload });
    this.stopHeartbeats = [startHeartbeat(this.forecasts, limits.heartbeatMs), startHeartbeat(this.ingest, limits.heartbeatMs)];
    this.ingestContext = {
      check: (raw: unknown) => pipeline.check(raw),
      scan: pipeline.scanMessage,
      gate: pipeline.gate,
      accepted: (n: number) => pipeline.metrics.samplesIn.inc({ source: 'ingest' }, n),
      rejected: (err: GruStreamError) => pipeline.reportInvalid(err, 'ingest'),
      sessions: pipeline.ingestSessions,
    };
  }

  /** The HTTP server's 'upgrade' listener. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const { metrics, hub } = this.pipeline;
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req);
    const endpoint = url?.pathname;
    if (!url || (endpoint !== '/forecasts' && endpoint !== '/ingest')) return refuseUpgrade(socket, 404, 'no WebSocket endpoint here; use /forecasts or /ingest');
    if (!isAuthorized(this.opts.token, req, url)) {
      metrics.authFailures.inc({ endpoint });
      return refuseUpgrade(socket, 401, 'ERR_AUTH: missing or wrong token (send Authorization: Bearer TOKEN or ?token=TOKEN)');
    }
    if (this.closing) return refuseUpgrade(socket, 503, 'server is shutting down');
    const wss = endpoint === '/forecasts' ? this.forecasts : this.ingest;
    wss.handleUpgrade(req, socket, head, (ws) => {
      metrics.connections.inc({ endpoint });
      this.watchErrors(ws, endpoint);
      wss.emit('connection', ws, req);
      if (endpoint === '/forecasts') {
        ws.once('close', () => hub.remove(ws));
        handleForecastsConnection(ws, url, hub);
      } else {
        handleIngestConnection(ws, this.ingestContext);
      }
    });
  };

  /** From now on every upgrade is refused with 503. */
  refuseNew(): void {
    this.closing = true;
  }

  stopHeartbeat(): void {
    for (const stop of this.stopHeartbeats) stop();
  }

  /**
   * Sends every client a 1001 close, waits for the handshakes (at most CLOSE_HANDSHAKE_MS each)
   * and terminates whoever has not answered.
   */
  async close(): Promise<void> {
    this.refuseNew();
    this.stopHeartbeat();
    this.pipeline.hub.close(CLOSE_GOING_AWAY, 'server shutting down');
    for (const ws of this.ingest.clients) ws.close(CLOSE_GOING_AWAY, 'server shutting down');
    const all = (): WebSocket[] => [...this.forecasts.clients, ...this.ingest.clients];
    for (const ws of all()) setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
    await Promise.all([
      new Promise<void>((resolve) => this.forecasts.close(() => resolve())),
      new Promise<void>((resolve) => this.ingest.close(() => resolve())),
    ]);
    for (const ws of all()) ws.terminate();
  }

  private watchErrors(ws: WebSocket, endpoint: string): void {
    // ws closes the connection itself on protocol errors (1002), bad UTF-8 (1007) and oversize
    // messages (1009) and then emits 'error'; a listener must exist or the process would crash.
    ws.on('error', (err: Error & { code?: string }) => {
      this.pipeline.metrics.wsErrors.inc({ endpoint });
      this.opts.log(`gru-stream: ${endpoint} connection error: ${err.code ?? ''} ${err.message}`);
    });
  }
}
