import { hostname } from 'node:os';
import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { OptionError } from '../errors.js';
import { type MqttOptions, type ResolvedMqttOptions, resolveMqttOptions } from '../mqtt/mqtt-options.js';
import type { GruModel } from '../model/model.js';
import { type PredictorOptions, checkPredictorOptions } from '../stream/predictor-options.js';
import type { CheckpointStore } from './checkpoint-store.js';

export interface KafkaOptions {
  /** Bootstrap brokers, host:port each. */
  brokers: string[];
  inputTopic: string;
  outputTopic: string;
  /** Consumer group id; every instance of one deployment uses the same. Default 'gru-stream'. */
  group?: string;
  /** A loaded model or a safetensors path. */
  model: GruModel | string;
  /** Directory for partition checkpoints, shared by every instance of the group. */
  stateDir: string;
  /** A partition is checkpointed after a batch once this long has passed since its last one. Default 10 000 ms. */
  checkpointIntervalMs?: number;
  /** Kafka client id. Default gru-stream-HOSTNAME-PID. */
  clientId?: string;
  /** Group session timeout (failover takes about twice this). Default 30 000 ms. */
  sessionTimeoutMs?: number;
  /** How long a fetch waits for data. Default 500 ms. */
  maxWaitTimeMs?: number;
  /** Output and consumed offsets in one Kafka transaction (needs a broker with transactions). */
  exactlyOnce?: boolean;
  /** SASL and TLS settings (the CLI reads them from the environment). */
  sasl?: SASLOptions;
  ssl?: boolean | ConnectionOptions;
  predictor?: Pick<PredictorOptions, 'workers' | 'capacity' | 'horizon' | 'kernel'>;
  /** Serve /healthz and /metrics on this port (0 = any free port); undefined = no HTTP server. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Replaces the file store in stateDir (embedding, tests). */
  store?: CheckpointStore;
  /** Delay before a crashed consumer is replaced. Default 1000 ms. */
  restartDelayMs?: number;
  /** Operational log lines (assignments, crashes, rejected records). Default: none. */
  log?: (line: string) => void;
  /**
   * Also publish every forecast to an MQTT broker (QoS 1) on `publish` ('forecasts/{series}').
   * Samples still come from inputTopic only, so `topic` must be left out. The MQTT client id
   * defaults to this instance's Kafka client id (one persistent session per instance).
   */
  mqtt?: MqttOptions;
}

export interface ResolvedKafkaOptions {
  brokers: string[];
  inputTopic: string;
  outputTopic: string;
  group: string;
  stateDir: string;
  checkpointIntervalMs: number;
  clientId: string;
  sessionTimeoutMs: number;
  maxWaitTimeMs: number;
  exactlyOnce: boolean;
  restartDelayMs: number;
  host: string;
  port: number | undefined;
  log: (line: string) => void;
  mqtt: ResolvedMqttOptions | undefined;
}

function name(options: KafkaOptions, key: 'inputTopic' | 'outputTopic' | 'group' | 'stateDir' | 'clientId', fallback?: string): string {
  const v = options[key] ?? fallback;
  if (typeof v !== 'string' || v.length === 0) throw new OptionError(`options.${key} must be a non-empty string`, { option: key });
  return v;
}

function ms(options: KafkaOptions, key: 'checkpointIntervalMs' | 'sessionTimeoutMs' | 'maxWaitTimeMs' | 'restartDelayMs', fallback: number, min: number): number {
  const v = options[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 3_600_000) {
    throw new OptionError(`options.${key} must be a whole number of milliseconds from ${min} to 3600000 (got ${JSON.stringify(v)})`, { option: key });
  }
  return v;
}

/** Validate once, at the library boundary. */
export function resolveKafkaOptions(options: KafkaOptions): ResolvedKafkaOptions {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0 || options.brokers.some((b) => typeof b !== 'string' || !/^[^\s:]+:\d+$/.test(b))) {
    throw new OptionError(`options.brokers must be a list of host:port (got ${JSON.stringify(options.brokers)})`, { option: 'brokers' });
  }
  const inputTopic = name(options, 'inputTopic');
  const outputTopic = name(options, 'outputTopic');
  if (inputTopic === outputTopic) throw new OptionError('options.outputTopic must differ from options.inputTopic', { option: 'outputTopic' });
  // Checked now, not when a partition is first assigned and its predictor created.
  checkPredictorOptions(options.predictor ?? {});
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new OptionError(`options.port must be 0..65535 (got ${JSON.stringify(port)})`, { option: 'port' });
  const clientId = name(options, 'clientId', `gru-stream-${hostname()}-${process.pid}`);
  if (options.mqtt !== undefined && options.mqtt !== null && typeof options.mqtt === 'object' && (options.mqtt.topic !== undefined || options.mqtt.publish === undefined)) {
    throw new OptionError('options.mqtt: gru-stream kafka reads samples from options.inputTopic and publishes forecasts to MQTT: give mqtt.publish, not mqtt.topic', { option: 'mqtt.topic' });
  }
  const mqtt = options.mqtt === undefined ? undefined : resolveMqttOptions({ ...options.mqtt, clientId: options.mqtt.clientId ?? clientId });
  return {
    brokers: options.brokers,
    inputTopic,
    outputTopic,
    group: name(options, 'group', 'gru-stream'),
    stateDir: name(options, 'stateDir'),
    checkpointIntervalMs: ms(options, 'checkpointIntervalMs', 10_000, 0),
    clientId,
    sessionTimeoutMs: ms(options, 'sessionTimeoutMs', 30_000, 1000),
    maxWaitTimeMs: ms(options, 'maxWaitTimeMs', 500, 10),
    exactlyOnce: options.exactlyOnce === true,
    restartDelayMs: ms(options, 'restartDelayMs', 1000, 0),
    host: options.host ?? '127.0.0.1',
    port,
    log: options.log ?? (() => undefined),
    mqtt,
  };
}
