import { EventEmitter, once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCodes, GruStreamError, isGruStreamError } from '../errors.js';
import { loadModel } from '../model/load-model.js';
import type { GruModel } from '../model/model.js';
import { Normaliser } from '../model/normaliser.js';
import { type Forecast, type Predictor, type PredictorStats, createPredictor } from '../stream/predictor.js';
import { assertReadableFile } from '../stream/open-input.js';
import { checkSample } from '../stream/sample.js';
import { packageVersion } from '../util/package-root.js';
import { AccuracyTracker } from './accuracy.js';
import { isAuthorized, refuseUpgrade } from './auth.js';
import { WriteGate } from './backpressure.js';
import { CLOSE_GOING_AWAY } from './close-codes.js';
import { type StaticFile, loadDashboardFiles } from './dashboard.js';
import { handleForecastsConnection } from './forecasts-endpoint.js';
import { startHeartbeat } from './heartbeat.js';
import { handleIngestConnection } from './ingest.js';
import { type InputSource, startInput } from './input.js';
import { type SampleSource, ServeMetrics } from './metrics.js';
import { type ResolvedServeOptions, type ServeOptions, resolveServeOptions } from './options.js';
import { startReplay } from './replay.js';
import { type SubscriberInfo, SubscriberHub } from './subscriber-hub.js';

/**
 * `serve()`: one HTTP server carrying the dashboard, /healthz, /metrics and two WebSocket
 * endpoints, around one predictor that every sample source writes into:
 *
 *   /ingest (ws) ─┐                                        ┌─▶ SubscriberHub ─▶ /forecasts (ws)
 *   --input ──────┼─▶ WriteGate ─▶ predictor ─▶ record ─┼─▶ AccuracyTracker ─▶ accuracy msgs, MAE gauges
 *   --replay ─────┘   (backpressure)                       └─▶ metrics
 *
 * The predictor's output is read in flowing mode and fanned out synchronously; the hub never
 * blocks, so a slow subscriber cannot stall the predictor, the producers or other subscribers.
 */

export interface ServeHandle {
  /** http://host:port/ (the dashboard). */
  url: string;
  host: string;
  port: number;
  model: GruModel;
  predictor: Predictor;
  /** This server's own Prometheus registry (GET /metrics). */
  metrics: ServeMetrics;
  /**
   * 'input-end' (after --input is consumed), 'replay-end' (a non-looping replay finished),
   * 'slow-close' (SubscriberInfo of a subscriber closed with 4008), 'forecast' (each record),
   * 'invalid' (each rejection, a GruStreamError), 'error' is never emitted (see `log`).
   */
  events: EventEmitter;
  subscribers(): SubscriberInfo[];
  stats(): PredictorStats & { subscribers: number; dropped: number; slowClosed: number };
  /** Stops sources, closes every connection (1001), ends the predictor, closes the server. */
  close(): Promise<void>;
}

export type { ServeOptions };

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** Starts a server; rejects with a coded GruStreamError for bad options, models or inputs. */
export async function serve(options: ServeOptions = {}): Promise<ServeHandle> {
  const opts: ResolvedServeOptions = resolveServeOptions(options);
  // A mistyped path fails the start, not a log line after the server is up.
  if (typeof opts.input === 'string' && opts.input !== '-') await assertReadableFile(opts.input, '--input');
  if (opts.replay !== undefined) await assertReadableFile(opts.replay, '--replay');
  const model = typeof opts.model === 'string' ? await loadModel(opts.model) : opts.model;
  const files = await loadDashboardFiles();
  const predictor = createPredictor(model, { ...opts.predictor, onInvalid: 'report' });
  const normaliser = new Normaliser(model.config);
  const knownSeries = opts.predictor.knownSeries ? new Set(opts.predictor.knownSeries) : null;
  const events = new EventEmitter();
  const { limits, log } = opts;
  const gate = new WriteGate(predictor);
  const hub = new SubscriberHub({ highWaterBytes: limits.subscriberHighWater, slowCloseMs: limits.slowCloseMs, history: limits.history, historySeries: limits.historySeries });
  const metrics = new ServeMetrics({ liveSeries: () => predictor.stats().liveSeries, subscribers: () => hub.size });
  const accuracy = new AccuracyTracker();
  const dirty = new Set<string>();
  const started = Date.now();
  let failure: Error | undefined;
  let closing = false;

  const reportInvalid = (err: GruStreamError, source: SampleSource | 'predictor'): void => {
    metrics.rejected.inc({ code: err.code });
    const { series, line } = err.details;
    const msg = { type: 'invalid', code: err.code, message: err.message, source, ...(line === undefined ? {} : { line }), ...(series === undefined ? {} : { series }) };
    hub.publishInvalid(typeof series === 'string' ? series : undefined, JSON.stringify(msg));
    events.emit('invalid', err);
  };

  // --- predictor output: fan-out, accuracy, metrics -------------------------------------------
  predictor.on('data', (record: Forecast) => {
    metrics.forecastsOut.inc();
    hub.publishForecast(record.series, JSON.stringify({ type: 'forecast', ...record }));
    if (accuracy.observe(record)) dirty.add(record.series);
    events.emit('forecast', record);
  });
  // Samples the predictor itself rejects (ingest pre-checks its own with the same checkSample, so
  // these come from --input/--replay rows that parsed but are not usable samples).
  predictor.on('invalid', (err: GruStreamError) => reportInvalid(err, 'predictor'));
  predictor.on('evict', ({ series }: { series: string }) => {
    metrics.evictions.inc();
    accuracy.forget(series);
    hub.forgetSeries(series);
    metrics.forgetSeries(series);
    dirty.delete(series);
  });
  predictor.on('batch', ({ size, latencyMs }: { size: number; latencyMs: number }) => {
    metrics.stepLatency.observe(latencyMs / 1000);
    metrics.batchSize.observe(size);
  });
  predictor.on('error', (err: Error) => {
    // Fatal for forecasting (e.g. the worker pool failed repeatedly); the server stays up to
    // say so on /healthz rather than vanishing.
    failure = err;
    log(`gru-stream: predictor failed: ${isGruStreamError(err) ? `${err.code}: ` : ''}${err.message}`);
  });
  hub.on('dropped', (n: number) => metrics.dropped.inc(n));
  hub.on('slow-close', (info: SubscriberInfo) => {
    metrics.slowCloses.inc();
    log(`gru-stream: subscriber ${info.id} closed with 4008 (behind ${info.behindMs} ms, ${info.bufferedAmount} bytes buffered)`);
    events.emit('slow-close', info);
  });

  /**
   * Between replay passes. predictor.reset() resolves after every earlier record was pushed, and
   * the flowing 'data' listener above receives a push synchronously, so no record of the old pass
   * can reach the accuracy tracker after it was cleared here.
   */
  const resetSeries = async (series: string): Promise<void> => {
    await predictor.reset(series);
    accuracy.forget(series);
    metrics.forgetSeries(series);
    dirty.delete(series);
    hub.resetSeries(series, JSON.stringify({ type: 'reset', series }));
  };

  // Accuracy messages are throttled per series: one per interval at most, carrying the latest totals.
  const accuracyTimer = setInterval(() => {
    for (const series of dirty) {
      const snap = accuracy.snapshot(series);
      if (!snap) continue;
      hub.publishAccuracy(series, JSON.stringify(snap));
      if (snap.maeModel !== null) metrics.mae.set({ series, predictor: 'model' }, snap.maeModel);
      if (snap.maePersistence !== null) metrics.mae.set({ series, predictor: 'persistence' }, snap.maePersistence);
      metrics.scoredSteps.set({ series }, snap.n);
    }
    dirty.clear();
  }, limits.accuracyIntervalMs);
  accuracyTimer.unref();

  // --- HTTP --------------------------------------------------------------------------------------
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = requestUrl(req);
    if (!url) return sendJson(res, 400, { error: 'bad request URL' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    if (url.pathname === '/healthz') {
      const stats = predictor.stats();
      return sendJson(res, failure ? 503 : 200, {
        status: failure ? 'failed' : 'ok',
        ...(failure ? { error: failure.message } : {}),
        version: packageVersion(),
        uptimeSeconds: (Date.now() - started) / 1000,
        model: { columns: model.config.columns, hiddenSize: model.config.hiddenSize, numLayers: model.config.numLayers, transform: model.config.transform, horizon: opts.predictor.horizon ?? 1 },
        auth: opts.token !== undefined,
        ...stats,
        ...hub.stats(),
      });
    }
    if (url.pathname === '/metrics') {
      metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
        res.end(text);
      }, (err: Error) => sendJson(res, 500, { error: err.message }));
      return;
    }
    if (url.pathname === '/forecasts' || url.pathname === '/ingest') {
      res.setHeader('Upgrade', 'websocket');
      return sendJson(res, 426, { error: `${url.pathname} is a WebSocket endpoint` });
    }
    const file: StaticFile | undefined = files.get(url.pathname);
    if (!file) return sendJson(res, 404, { error: 'not found' });
    res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
  const server: Server = createServer(onRequest);
  // Bounded header and request times: a slow-loris client cannot hold sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  // --- WebSockets -------------------------------------------------------------------------------
  const wsOptions = { noServer: true, perMessageDeflate: false, clientTracking: true } as const;
  const forecastsWss = new WebSocketServer({ ...wsOptions, maxPayload: limits.forecastsMaxPayload });
  const ingestWss = new WebSocketServer({ ...wsOptions, maxPayload: limits.ingestMaxPayload });
  const stopHeartbeats = [startHeartbeat(forecastsWss, limits.heartbeatMs), startHeartbeat(ingestWss, limits.heartbeatMs)];
  const watchErrors = (ws: WebSocket, endpoint: string): void => {
    // ws closes the connection itself on protocol errors (1002), bad UTF-8 (1007) and oversize
    // messages (1009) and then emits 'error'; a listener must exist or the process would crash.
    ws.on('error', (err: Error & { code?: string }) => {
      metrics.wsErrors.inc({ endpoint });
      log(`gru-stream: ${endpoint} connection error: ${err.code ?? ''} ${err.message}`);
    });
  };
  const ingestContext = {
    check: (raw: unknown) => checkSample(raw, model.config.columns, normaliser, knownSeries),
    gate,
    accepted: (n: number) => metrics.samplesIn.inc({ source: 'ingest' }, n),
    rejected: (err: GruStreamError) => reportInvalid(err, 'ingest'),
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req);
    const endpoint = url?.pathname;
    if (!url || (endpoint !== '/forecasts' && endpoint !== '/ingest')) return refuseUpgrade(socket, 404, 'no WebSocket endpoint here; use /forecasts or /ingest');
    if (!isAuthorized(opts.token, req, url)) {
      metrics.authFailures.inc({ endpoint });
      return refuseUpgrade(socket, 401, 'ERR_AUTH: missing or wrong token (send Authorization: Bearer TOKEN or ?token=TOKEN)');
    }
    if (closing) return refuseUpgrade(socket, 503, 'server is shutting down');
    const wss = endpoint === '/forecasts' ? forecastsWss : ingestWss;
    wss.handleUpgrade(req, socket, head, (ws) => {
      metrics.connections.inc({ endpoint });
      watchErrors(ws, endpoint);
      wss.emit('connection', ws, req);
      if (endpoint === '/forecasts') {
        ws.once('close', () => hub.remove(ws));
        handleForecastsConnection(ws, url, hub);
      } else {
        handleIngestConnection(ws, ingestContext);
      }
    });
  });

  server.listen(opts.port, opts.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    // Nothing is serving yet: release what was started, and say what to change.
    for (const stop of stopHeartbeats) stop();
    predictor.destroy();
    const e = err as NodeJS.ErrnoException;
    throw new GruStreamError(ErrorCodes.ERR_LISTEN, `cannot listen on ${opts.host}:${opts.port} (${e.code ?? e.message}); choose another --port (0 = any free port) or --host`, { host: opts.host, port: opts.port });
  }
  const { port } = server.address() as AddressInfo;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${hostForUrl}:${port}/`;

  // --- sample sources ------------------------------------------------------------------------------
  const stops: Array<() => Promise<void>> = [];
  const countSample = (source: SampleSource) => () => metrics.samplesIn.inc({ source });
  const parseInvalid = (source: SampleSource) => (err: GruStreamError) => reportInvalid(err, source);
  if (opts.input !== undefined) {
    const input: InputSource = startInput({
      input: opts.input,
      format: opts.format,
      columns: model.config.columns,
      series: opts.series,
      gate,
      onSample: countSample('input'),
      onInvalid: parseInvalid('input'),
    });
    input.done.then(() => events.emit('input-end'), (err: Error) => log(`gru-stream: --input failed: ${err.message}`));
    stops.push(input.stop);
  }
  if (opts.replay !== undefined) {
    const replay = startReplay({
      path: opts.replay,
      rate: opts.rate,
      loop: opts.loop,
      columns: model.config.columns,
      series: opts.series,
      gate,
      resetSeries,
      onSample: countSample('replay'),
      onInvalid: parseInvalid('replay'),
    });
    replay.done.then(() => events.emit('replay-end'), (err: Error) => log(`gru-stream: --replay failed: ${err.message}`));
    stops.push(replay.stop);
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      await Promise.all(stops.map((stop) => stop()));
      clearInterval(accuracyTimer);
      for (const stop of stopHeartbeats) stop();
      hub.close(CLOSE_GOING_AWAY, 'server shutting down');
      for (const ws of ingestWss.clients) ws.close(CLOSE_GOING_AWAY, 'server shutting down');
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // Peers get a moment to answer the close handshake; whoever has not is cut off.
      for (const ws of [...forecastsWss.clients, ...ingestWss.clients]) setTimeout(() => ws.terminate(), 1_000).unref();
      await Promise.all([
        new Promise<void>((resolve) => forecastsWss.close(() => resolve())),
        new Promise<void>((resolve) => ingestWss.close(() => resolve())),
      ]);
      for (const ws of [...forecastsWss.clients, ...ingestWss.clients]) ws.terminate();
      if (!predictor.destroyed) {
        const finished = once(predictor, 'close').catch(() => undefined);
        predictor.end();
        await finished;
      }
      await serverClosed;
    })();
    return closed;
  };

  return {
    url,
    host: opts.host,
    port,
    model,
    predictor,
    metrics,
    events,
    subscribers: () => hub.subscribers(),
    stats: () => ({ ...predictor.stats(), ...hub.stats() }),
    close,
  };
}
