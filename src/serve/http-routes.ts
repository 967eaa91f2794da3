import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { packageVersion } from '../util/package-root.js';
import type { StaticFile } from './dashboard.js';
import type { ResolvedServeOptions } from './options.js';
import type { ServePipeline } from './pipeline.js';
import { requestUrl } from './request-url.js';

/**
 * The plain-HTTP side of the server: GET/HEAD only.
 *
 *   /healthz     JSON status (503 once the predictor failed), model shape, predictor and hub stats,
 *                accuracy and interval calibration overall and for the first HEALTH_SERIES series
 *   /metrics     Prometheus text from this server's own registry
 *   /forecasts, /ingest   426: they are WebSocket endpoints (see websocket-endpoints.ts)
 *   anything else         a dashboard file, or 404
 */
export interface RoutesContext {
  pipeline: ServePipeline;
  files: ReadonlyMap<string, StaticFile>;
  opts: ResolvedServeOptions;
  /** Date.now() at start, for uptimeSeconds. */
  started: number;
}

/** Series listed one by one on /healthz (the overall figures cover every series). */
const HEALTH_SERIES = 100;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

/** The request's URL when it is a parsable GET or HEAD; otherwise answers 400 or 405 and returns undefined. */
export function getRequestUrl(req: IncomingMessage, res: ServerResponse): URL | undefined {
  const url = requestUrl(req);
  if (!url) {
    sendJson(res, 400, { error: 'bad request URL' });
    return undefined;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, { error: 'method not allowed' });
    return undefined;
  }
  return url;
}

/** GET /metrics: a registry's Prometheus text. */
export function sendMetrics(res: ServerResponse, registry: Registry): void {
  registry.metrics().then((text) => {
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
    res.end(text);
  }, (err: Error) => sendJson(res, 500, { error: err.message }));
}

function health(ctx: RoutesContext): { status: number; body: object } {
  const { pipeline, opts, started } = ctx;
  const { failure } = pipeline;
  const { config } = pipeline.model;
  return {
    status: failure ? 503 : 200,
    body: {
      status: failure ? 'failed' : 'ok',
      ...(failure ? { error: failure.message } : {}),
      version: packageVersion(),
      uptimeSeconds: (Date.now() - started) / 1000,
      model: { columns: config.columns, hiddenSize: config.hiddenSize, numLayers: config.numLayers, transform: config.transform, horizon: pipeline.predictor.options.horizon },
      auth: opts.token !== undefined,
      ...pipeline.stats(),
      ...pipeline.hub.stats(),
      intervalLevels: pipeline.predictor.options.intervalLevels,
      accuracy: pipeline.accuracyReport(HEALTH_SERIES),
    },
  };
}

export function createRequestHandler(ctx: RoutesContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics } = ctx.pipeline;
  return (req, res) => {
    const url = getRequestUrl(req, res);
    if (!url) return;
    if (url.pathname === '/healthz') {
      const { status, body } = health(ctx);
      return sendJson(res, status, body);
    }
    if (url.pathname === '/metrics') return sendMetrics(res, metrics.registry);
    if (url.pathname === '/forecasts' || url.pathname === '/ingest') {
      res.setHeader('Upgrade', 'websocket');
      return sendJson(res, 426, { error: `${url.pathname} is a WebSocket endpoint` });
    }
    const file = ctx.files.get(url.pathname);
    if (!file) return sendJson(res, 404, { error: 'not found' });
    res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}
