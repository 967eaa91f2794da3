import type { EventEmitter } from 'node:events';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { CheckpointError, ErrorCodes, ServeError } from '../errors.js';
import { loadModel } from '../model/load-model.js';
import type { GruModel } from '../model/model.js';
import type { Predictor, PredictorStats } from '../stream/predictor.js';
import { assertReadableFile } from '../stream/open-input.js';
import { loadDashboardFiles } from './dashboard.js';
import { createRequestHandler } from './http-routes.js';
import { InputProgress } from './input-progress.js';
import type { ServeMetrics } from './metrics.js';
import { type ResolvedServeOptions, type ServeOptions, resolveServeOptions } from './options.js';
import { ServePipeline } from './pipeline.js';
import { createShutdown } from './shutdown.js';
import { startSources } from './sources.js';
import { ServeCheckpointer } from './checkpointer.js';
import { checkReplayFile } from './replay.js';
import type { SubscriberInfo } from './subscriber-info.js';
import { WebSocketEndpoints } from './websocket-endpoints.js';

/**
 * `serve()`: one HTTP server carrying the dashboard, /healthz, /metrics and two WebSocket
 * endpoints, around one predictor that every sample source writes into:
 *
 *   /ingest (ws) ─┐                                        ┌─▶ SubscriberHub ─▶ /forecasts (ws)
 *   --input ──────┼─▶ WriteGate ─▶ predictor ─▶ record ─┼─▶ AccuracyPublisher ─▶ accuracy msgs, MAE gauges
 *   --replay ─────┘   (backpressure)                       └─▶ metrics
 *
 * This file only assembles the parts, one concept per file:
 *   options.ts              defaults and validation (once, here at the library boundary)
 *   pipeline.ts             the predictor and what its output feeds (hub, accuracy, metrics, events)
 *   http-routes.ts          /healthz, /metrics, the dashboard
 *   websocket-endpoints.ts  upgrade, auth, /forecasts and /ingest
 *   sources.ts              --input and --replay
 *   shutdown.ts             close(), in order
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

/** Listens, or rejects with ERR_LISTEN saying what to change. Resolves with the bound port. */
export async function listen(server: Server, opts: { host: string; port: number }): Promise<number> {
  server.listen(opts.port, opts.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ServeError(ErrorCodes.ERR_LISTEN, `cannot listen on ${opts.host}:${opts.port} (${e.code ?? e.message}); choose another --port (0 = any free port) or --host`, { host: opts.host, port: opts.port });
  }
  return (server.address() as AddressInfo).port;
}

/** Starts a server; rejects with a coded GruStreamError for bad options, models or inputs. */
export async function serve(options: ServeOptions = {}): Promise<ServeHandle> {
  const opts = resolveServeOptions(options);
  // A mistyped path fails the start, not a log line after the server is up.
  if (typeof opts.input === 'string' && opts.input !== '-') await assertReadableFile(opts.input, '--input');
  if (opts.replay !== undefined) await assertReadableFile(opts.replay, '--replay');
  const model = typeof opts.model === 'string' ? await loadModel(opts.model) : opts.model;
  if (opts.replay !== undefined) await checkReplayFile(opts.replay, model.config.columns);
  const files = await loadDashboardFiles();

  const pipeline = new ServePipeline(model, opts);
  let checkpointer: ServeCheckpointer | null = null;
  try {
    // Restored before any source or connection can write a sample.
    if (opts.stateDir !== undefined) checkpointer = await ServeCheckpointer.open(opts.stateDir, pipeline, opts.checkpointIntervalMs, opts.log);
  } catch (err) {
    pipeline.destroy();
    throw err;
  }
  const server = createServer(createRequestHandler({ pipeline, files, opts, started: Date.now() }));
  // Bounded header and request times: a slow-loris client cannot hold sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const endpoints = new WebSocketEndpoints(pipeline, opts);
  server.on('upgrade', endpoints.onUpgrade);

  let port: number;
  try {
    port = await listen(server, opts);
  } catch (err) {
    // Nothing is serving yet: release what was started.
    endpoints.stopHeartbeat();
    pipeline.destroy();
    throw err;
  }
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let progress: InputProgress | undefined;
  try {
    progress = checkpointer ? await inputProgress(opts, checkpointer) : undefined;
  } catch (err) {
    endpoints.stopHeartbeat();
    server.close();
    pipeline.destroy();
    throw err;
  }
  if (progress) checkpointer!.track(progress);
  checkpointer?.start();
  const sources = startSources(opts, pipeline, progress);
  const { predictor, hub } = pipeline;
  return {
    url: `http://${hostForUrl}:${port}/`,
    host: opts.host,
    port,
    model,
    predictor,
    metrics: pipeline.metrics,
    events: pipeline.events,
    subscribers: () => hub.subscribers(),
    stats: () => ({ ...pipeline.stats(), ...hub.stats() }),
    close: createShutdown({ server, pipeline, endpoints, sources, checkpointer }),
  };
}

/**
 * Under --state-dir, a file given to --input is read on from the checkpoint's position (the lines
 * before it are in the restored state) and its position is checkpointed from now on. stdin and
 * other streams have no position: they are read as they come (samples with `seq` make a resent
 * stream idempotent). A checkpoint of another input file, or a file now shorter than the position,
 * is reported and the file read from the start, or refused.
 */
async function inputProgress(opts: ResolvedServeOptions, checkpointer: ServeCheckpointer): Promise<InputProgress | undefined> {
  if (typeof opts.input !== 'string' || opts.input === '-' || !(await stat(opts.input)).isFile()) return undefined;
  const path = resolve(opts.input);
  const saved = checkpointer.restoredInput;
  if (saved && saved.path !== path) {
    opts.log(`gru-stream: warning: the checkpoint was reading --input ${saved.path}; reading ${path} from its start`);
    return new InputProgress(path, { offset: 0, line: 1 });
  }
  if (saved && (await stat(path)).size < saved.offset) {
    throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_MISMATCH, `--input ${path} is shorter than the ${saved.offset} bytes the checkpoint had applied: it was replaced; remove the state directory to start over`, { path });
  }
  return new InputProgress(path, saved ?? { offset: 0, line: 1 });
}
