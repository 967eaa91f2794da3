import { hostname } from 'node:os';
import { OptionError } from '../errors.js';
import { seriesLevelOf } from './topic-series.js';

/** MQTT ingest and/or forecast publishing (`serve`: either or both; `kafka`: publishing only). */
export interface MqttOptions {
  /** Broker URL: mqtt://host:port, mqtts://host:port (TLS), ws:// or wss://. */
  url: string;
  /** Subscription filter, e.g. `sensors/+/reading`; subscribed with QoS 1. Without it, nothing is read. */
  topic?: string;
  /** Topic level (0-based) holding the series id. Default: the filter's first `+`. */
  seriesLevel?: number;
  /** Publish each forecast (QoS 1) to this topic; `{series}` is replaced by the series id. */
  publish?: string;
  /**
   * Fixed client id of the persistent session (clean: false): the broker keeps the subscription and
   * queues QoS 1 messages for it while this client is away. Default gru-stream-HOSTNAME; every
   * running instance needs its own.
   */
  clientId?: string;
  username?: string;
  password?: string;
  /** PEM CA(s), client certificate and key for mqtts:// / wss://. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Wait between reconnection attempts. Default 1000 ms. */
  reconnectPeriodMs?: number;
}

export interface ResolvedMqttOptions extends Required<Pick<MqttOptions, 'url' | 'clientId' | 'reconnectPeriodMs'>> {
  topic: string | undefined;
  /** Meaningful with a topic. */
  seriesLevel: number;
  publish: string | undefined;
  username: string | undefined;
  password: string | undefined;
  ca: string | Buffer | undefined;
  cert: string | Buffer | undefined;
  key: string | Buffer | undefined;
}

function fail(key: string, message: string): never {
  throw new OptionError(`options.mqtt.${key} ${message}`, { option: `mqtt.${key}` });
}

export function resolveMqttOptions(o: MqttOptions): ResolvedMqttOptions {
  if (typeof o !== 'object' || o === null) throw new OptionError('options.mqtt must be an object', { option: 'mqtt' });
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    fail('url', `must be a URL like mqtt://host:1883 (got ${JSON.stringify(o.url)})`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol)) fail('url', `must use mqtt:, mqtts:, ws: or wss: (got ${url.protocol})`);
  if (o.topic === undefined && o.publish === undefined) fail('topic', 'or options.mqtt.publish is needed: a topic to read samples from, a topic to publish forecasts to, or both');
  if (o.topic !== undefined) {
    if (typeof o.topic !== 'string' || o.topic === '') fail('topic', 'must be a non-empty MQTT topic filter');
    // MQTT's rule: + and # stand for whole levels, and # only as the last one.
    const levels = o.topic.split('/');
    if (levels.some((l, i) => (l.length > 1 && /[+#]/.test(l)) || (l === '#' && i !== levels.length - 1))) {
      fail('topic', `is not a valid filter: + and # must be whole levels, # the last (got ${JSON.stringify(o.topic)})`);
    }
  }
  if (o.publish !== undefined && (typeof o.publish !== 'string' || !o.publish.includes('{series}') || /[+#]/.test(o.publish))) {
    fail('publish', `must be a topic containing {series} and no wildcards (got ${JSON.stringify(o.publish)})`);
  }
  const clientId = o.clientId ?? `gru-stream-${hostname()}`;
  if (typeof clientId !== 'string' || clientId === '') fail('clientId', 'must be a non-empty string');
  const reconnectPeriodMs = o.reconnectPeriodMs ?? 1000;
  if (!Number.isInteger(reconnectPeriodMs) || reconnectPeriodMs < 10) fail('reconnectPeriodMs', `must be a whole number of ms >= 10 (got ${JSON.stringify(reconnectPeriodMs)})`);
  return {
    url: o.url,
    topic: o.topic,
    seriesLevel: o.topic === undefined ? 0 : seriesLevelOf(o.topic, o.seriesLevel),
    publish: o.publish,
    clientId,
    username: o.username,
    password: o.password,
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    reconnectPeriodMs,
  };
}
