import type { Readable } from 'node:stream';
import { OptionError } from '../errors.js';
import { bundledModelPath } from '../model/bundled-model.js';
import type { GruModel } from '../model/model.js';
import { type MqttOptions, type ResolvedMqttOptions, resolveMqttOptions } from '../mqtt/mqtt-options.js';
import { checkInputFormat } from '../stream/open-input.js';
import { type PredictorOptions, checkPredictorOptions } from '../stream/predictor-options.js';

/**
 * Every serve() option is defaulted and checked here, once; the CLI only maps flags onto these
 * options (and reads the defaults below for its help text). Predictor options are checked by the
 * predictor's own validation, run here before the model is loaded.
 */

/** The demo's data: the R dataset the bundled model was trained on (assets/README.md). */
export const DEFAULT_REPLAY_PATH = 'assets/data/sunspot_month.csv';
export const DEFAULT_RATE = 50;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;

/** Resource limits for the WebSocket endpoints; every one has a safe default. */
export interface ServeLimits {
  /** Largest /ingest message in bytes (ws closes the connection with 1009 past it). Default 64 KiB. */
  ingestMaxPayload: number;
  /** Largest /forecasts client message in bytes; fits a subscribe of 1024 ids of 256 characters. Default 320 KiB. */
  forecastsMaxPayload: number;
  /** A subscriber's `ws.bufferedAmount` above which its messages are coalesced instead of sent. Default 256 KiB. */
  subscriberHighWater: number;
  /** A subscriber still behind after this many ms is closed with code 4008. Default 10 000. */
  slowCloseMs: number;
  /** Ping interval; a peer that has not answered the previous ping is terminated. Default 30 000. */
  heartbeatMs: number;
  /** Forecast records kept per series and sent to a new subscriber as one `history` message. Default 500, at most 100 000. */
  history: number;
  /** Series with history kept (least recently updated dropped first). Default 256. */
  historySeries: number;
  /** Accuracy messages and MAE gauges are refreshed at most this often per series. Default 250 ms. */
  accuracyIntervalMs: number;
}

export const DEFAULT_LIMITS: Readonly<ServeLimits> = Object.freeze({
  ingestMaxPayload: 64 * 1024,
  // A subscribe message naming MAX_SUBSCRIBED_SERIES (1024) ids of the longest allowed length
  // (256) is about 265 KB: the documented limit must be reachable within one message.
  forecastsMaxPayload: 320 * 1024,
  subscriberHighWater: 256 * 1024,
  slowCloseMs: 10_000,
  heartbeatMs: 30_000,
  history: 500,
  historySeries: 256,
  accuracyIntervalMs: 250,
});

/** Upper bounds of the limits that have one (every limit is an integer >= 1). */
const LIMIT_MAX: Partial<Record<keyof ServeLimits, number>> = { history: 100_000 };

export interface ServeOptions {
  /** A loaded model or a model file's path. Default: the bundled sunspot model (BUNDLED_MODEL). */
  model?: GruModel | string;
  /** Default DEFAULT_HOST, 127.0.0.1. */
  host?: string;
  /** Default DEFAULT_PORT, 8080; 0 picks any free port (read it back from the handle). */
  port?: number;
  /** When set, both WebSocket endpoints require `Authorization: Bearer TOKEN` or `?token=TOKEN`. */
  token?: string;
  /** NDJSON or CSV samples to forecast: a path, '-' for process.stdin, or a readable stream. */
  input?: string | Readable;
  /** Format of `input`; default from the file extension (.csv = csv, anything else ndjson). */
  format?: 'ndjson' | 'csv';
  /** A CSV to replay at `rate` samples per second. */
  replay?: string;
  /** Replay rate in samples per second. Default 50. */
  rate?: number;
  /** Start the replay over when it reaches the end. Default false. */
  loop?: boolean;
  /** Series id for CSV rows without a `series` column. Default: the CSV file's name without extension. */
  series?: string;
  /** Passed to createPredictor. */
  workers?: number;
  capacity?: number;
  horizon?: number;
  knownSeries?: string[];
  /** Prediction intervals: a level or several (see createPredictor's `interval`). */
  interval?: number | number[];
  limits?: Partial<ServeLimits>;
  /** Also take samples from an MQTT subscription, and optionally publish forecasts there. */
  mqtt?: MqttOptions;
  /** Diagnostics (input errors, slow-client closes); default: none. The CLI passes stderr. */
  log?: (line: string) => void;
  /** Checkpoint the predictor's state here (key "serve") and restore it at start; /ingest then sends durable acks. */
  stateDir?: string;
  /** Milliseconds between checkpoints with stateDir. Default 1000. */
  checkpointIntervalMs?: number;
}

/** ServeOptions with defaults applied and every value checked once, at the boundary. */
export interface ResolvedServeOptions {
  model: GruModel | string;
  host: string;
  port: number;
  token: string | undefined;
  input: string | Readable | undefined;
  format: 'ndjson' | 'csv' | undefined;
  replay: string | undefined;
  rate: number;
  loop: boolean;
  series: string | undefined;
  /** Checked by the predictor's own validation; createPredictor applies its defaults. */
  predictor: Pick<PredictorOptions, 'workers' | 'capacity' | 'horizon' | 'knownSeries' | 'interval'>;
  limits: ServeLimits;
  mqtt: ResolvedMqttOptions | undefined;
  log: (line: string) => void;
  stateDir: string | undefined;
  checkpointIntervalMs: number;
}

function limit(key: keyof ServeLimits, value: unknown): number {
  const max = LIMIT_MAX[key] ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new OptionError(`options.limits.${key} must be an integer from 1 to ${max} (got ${String(value)})`, { option: `limits.${key}` });
  }
  return value;
}

function checkpointInterval(value: unknown): number {
  if (value === undefined) return 1000;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new OptionError(`options.checkpointIntervalMs must be a positive number of milliseconds (got ${String(value)})`, { option: 'checkpointIntervalMs' });
  }
  return value;
}

function nonEmptyString(path: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new OptionError(`options.${path} must be a non-empty string`, { option: path });
  return value;
}

export function resolveServeOptions(options: ServeOptions = {}): ResolvedServeOptions {
  if (options === null || typeof options !== 'object') throw new OptionError('options must be an object');
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new OptionError(`options.port must be an integer from 0 to 65535 (got ${String(port)})`, { option: 'port' });
  const rate = options.rate ?? DEFAULT_RATE;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw new OptionError(`options.rate must be a positive number (got ${String(rate)})`, { option: 'rate' });
  const format = checkInputFormat(options.format);
  const token = options.token === undefined ? undefined : nonEmptyString('token', options.token);
  const limits: ServeLimits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(options.limits ?? {})) {
    if (!(key in DEFAULT_LIMITS)) throw new OptionError(`options.limits.${key} is not a known limit (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`, { option: `limits.${key}` });
    if (value === undefined) continue;
    limits[key as keyof ServeLimits] = limit(key as keyof ServeLimits, value);
  }
  const { workers, capacity, horizon, knownSeries, interval } = options;
  const predictor = { workers, capacity, horizon, knownSeries, interval };
  checkPredictorOptions(predictor);
  return {
    model: options.model ?? bundledModelPath(),
    host: options.host === undefined ? DEFAULT_HOST : nonEmptyString('host', options.host),
    port,
    token,
    input: options.input,
    format,
    replay: options.replay === undefined ? undefined : nonEmptyString('replay', options.replay),
    rate,
    loop: options.loop ?? false,
    series: options.series === undefined ? undefined : nonEmptyString('series', options.series),
    predictor,
    limits,
    mqtt: options.mqtt === undefined ? undefined : resolveMqttOptions(options.mqtt),
    log: options.log ?? (() => {}),
    stateDir: options.stateDir === undefined ? undefined : nonEmptyString('stateDir', options.stateDir),
    checkpointIntervalMs: checkpointInterval(options.checkpointIntervalMs),
  };
}
