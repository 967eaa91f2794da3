import { readFileSync } from 'node:fs';
import type { MqttOptions } from '../mqtt/mqtt-options.js';
import { intFlag, usageError } from './args.js';

/** The --mqtt* flags, for commands that take MQTT. */
export const MQTT_ARGS = {
  mqtt: { type: 'string' },
  'mqtt-topic': { type: 'string' },
  'mqtt-series-level': { type: 'string' },
  'mqtt-publish': { type: 'string' },
  'mqtt-client-id': { type: 'string' },
  'mqtt-username': { type: 'string' },
} as const;

export const MQTT_HELP = `MQTT (samples in, forecasts out, through a broker):
  --mqtt URL              broker: mqtt://host:1883, mqtts://host:8883 (TLS), ws://, wss://
  --mqtt-topic FILTER     subscribe with QoS 1, e.g. 'sensors/+/reading'; payload: a sample JSON
                          or a bare number (one-column models)
  --mqtt-series-level N   topic level (0-based) holding the series id (default: the first +)
  --mqtt-publish TOPIC    publish each forecast with QoS 1, e.g. 'forecasts/{series}'
  --mqtt-client-id ID     the persistent session's client id (default gru-stream-HOSTNAME);
                          one per running instance
  --mqtt-username U       (or $GRU_STREAM_MQTT_USERNAME); password: $GRU_STREAM_MQTT_PASSWORD
  TLS files (PEM): $GRU_STREAM_MQTT_CA, $GRU_STREAM_MQTT_CERT, $GRU_STREAM_MQTT_KEY`;

function pemFile(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const path = env[name];
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw usageError(`$${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** MqttOptions from the flags and environment, or undefined without --mqtt. The library validates the rest. */
export function mqttOptionsFromArgs(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): MqttOptions | undefined {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const url = str('mqtt');
  if (url === undefined) {
    const stray = Object.keys(MQTT_ARGS).find((k) => k !== 'mqtt' && values[k] !== undefined);
    if (stray) throw usageError(`--${stray} needs --mqtt`);
    return undefined;
  }
  const topic = str('mqtt-topic');
  if (topic === undefined && str('mqtt-publish') === undefined) throw usageError('--mqtt needs --mqtt-topic (e.g. \'sensors/+/reading\'), --mqtt-publish (e.g. \'forecasts/{series}\'), or both');
  return {
    url,
    topic,
    seriesLevel: intFlag('mqtt-series-level', str('mqtt-series-level')),
    publish: str('mqtt-publish'),
    clientId: str('mqtt-client-id'),
    username: str('mqtt-username') ?? (env.GRU_STREAM_MQTT_USERNAME || undefined),
    password: env.GRU_STREAM_MQTT_PASSWORD,
    ca: pemFile(env, 'GRU_STREAM_MQTT_CA'),
    cert: pemFile(env, 'GRU_STREAM_MQTT_CERT'),
    key: pemFile(env, 'GRU_STREAM_MQTT_KEY'),
  };
}
