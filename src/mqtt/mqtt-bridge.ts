import type { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ErrorCodes, type GruStreamError, InputError, isGruStreamError } from '../errors.js';
import type { Forecast } from '../stream/predictor.js';
import { sampleFromPayload } from '../stream/payload.js';
import type { CheckedSample } from '../stream/sample.js';
import type { ResolvedMqttOptions } from './mqtt-options.js';
import { seriesFromTopic } from './topic-series.js';

/** Where subscribed samples go (needed when the options have a subscription topic). */
export interface MqttIngest {
  /** Throws a coded InputError for a sample the predictor would reject. */
  check(raw: unknown): CheckedSample;
  /** serve's WriteGate (named by shape, so mqtt/ needs nothing from serve/, which builds the bridge). */
  gate: { write(sample: object): boolean; drained(): Promise<void> };
  onSample(): void;
  onInvalid(err: GruStreamError): void;
}

export interface MqttSink {
  /** Samples in: required with opts.topic (serve); absent for a publish-only bridge (kafka). */
  ingest?: MqttIngest;
  /** Emits 'forecast' (a forecast record) for every forecast made; published with opts.publish. */
  forecasts: EventEmitter;
  /** Also gets 'mqtt-connect' ({sessionPresent}), 'mqtt-ready' (subscribed) and 'mqtt-offline'. */
  events: EventEmitter;
  registry: Registry;
  log(line: string): void;
}

export interface MqttBridge {
  readonly client: MqttClient;
  /** Unsubscribes nothing (the persistent session keeps queuing) and closes the connection. */
  stop(): Promise<void>;
}

/**
 * MQTT in and out through one client with a persistent session:
 *
 *   broker ──QoS 1──▶ handleMessage ─▶ series from the topic, sample from the payload ─▶ gate ─▶ predictor
 *                     (PUBACK only after the gate took it; the next message waits for 'drain')
 *   predictor ─▶ 'forecast' ─▶ publish(opts.publish with {series}, QoS 1) ─▶ broker
 *
 * clean: false with a fixed client id: while this client is away (a broker restart, a network cut)
 * the broker keeps the QoS 1 subscription and queues what is published to it, and hands it over on
 * reconnection; mqtt.js keeps our unacknowledged publishes and sends them again. Nothing published
 * at QoS 1 is lost as long as the broker persists its state across its own restart.
 */
export function startMqttBridge(opts: ResolvedMqttOptions, sink: MqttSink): MqttBridge {
  const registers = [sink.registry];
  const received = new Counter({ name: 'gru_stream_mqtt_messages_total', help: 'MQTT messages received on the subscription.', registers });
  const published = new Counter({ name: 'gru_stream_mqtt_published_total', help: 'Forecasts handed to the MQTT client for publishing (QoS 1).', registers });
  const reconnects = new Counter({ name: 'gru_stream_mqtt_reconnects_total', help: 'Reconnection attempts to the MQTT broker.', registers });
  const connected = new Gauge({ name: 'gru_stream_mqtt_connected', help: '1 while connected to the MQTT broker.', registers });
  const clientOptions: IClientOptions = {
    clientId: opts.clientId,
    clean: false,
    reconnectPeriod: opts.reconnectPeriodMs,
    resubscribe: true,
    username: opts.username,
    password: opts.password,
    ca: opts.ca,
    cert: opts.cert,
    key: opts.key,
  };
  const client = mqtt.connect(opts.url, clientOptions);
  const { topic } = opts;
  const ingest = sink.ingest;
  if (topic !== undefined && ingest === undefined) throw new Error('startMqttBridge: a subscription topic needs sink.ingest');
  // One message at a time; the PUBACK of a QoS 1 message is sent after the callback.
  if (ingest) client.handleMessage = (packet, callback) => {
    received.inc();
    const series = seriesFromTopic(packet.topic, opts.seriesLevel);
    try {
      if (series === undefined) throw new InputError(ErrorCodes.ERR_SERIES_ID, `topic "${packet.topic}" has no series id at level ${opts.seriesLevel}`);
      const sample = ingest.check(sampleFromPayload(packet.payload.toString(), series, true));
      // seq goes along: a QoS 1 message the broker delivers again is then dropped as a duplicate.
      const ok = ingest.gate.write({ series: sample.series, values: sample.values, ...(sample.t === undefined ? {} : { t: sample.t }), ...(sample.seq === undefined ? {} : { seq: sample.seq }) });
      ingest.onSample();
      if (ok) callback();
      else ingest.gate.drained().then(() => callback());
    } catch (err) {
      if (!isGruStreamError(err)) return callback(err as Error);
      ingest.onInvalid(err);
      callback();
    }
  };
  client.on('connect', (connack) => {
    connected.set(1);
    sink.log(`gru-stream: mqtt: connected to ${opts.url} as ${opts.clientId}${connack.sessionPresent ? ' (session resumed)' : ''}`);
    sink.events.emit('mqtt-connect', { sessionPresent: connack.sessionPresent });
    // A resumed session still has the subscription (and the messages queued for it); a
    // publish-only bridge has none to make.
    if (connack.sessionPresent || topic === undefined) {
      sink.events.emit('mqtt-ready');
      return;
    }
    client.subscribe(topic, { qos: 1 }, (err) => {
      if (err) sink.log(`gru-stream: mqtt: subscribing to ${topic} failed: ${err.message}`);
      else sink.events.emit('mqtt-ready');
    });
  });
  client.on('reconnect', () => reconnects.inc());
  client.on('offline', () => {
    connected.set(0);
    sink.events.emit('mqtt-offline');
  });
  client.on('error', (err) => sink.log(`gru-stream: mqtt: ${err.message}`));
  const template = opts.publish;
  const onForecast = template === undefined ? null : (record: Omit<Forecast, 'actual'> & { actual?: unknown }): void => {
    const { actual: _actual, ...out } = record;
    published.inc();
    // Offline publishes are queued by mqtt.js and sent on reconnection.
    client.publish(template.replaceAll('{series}', record.series), JSON.stringify(out), { qos: 1 }, (err) => {
      if (err) sink.log(`gru-stream: mqtt: publishing a forecast of ${record.series} failed: ${err.message}`);
    });
  };
  if (onForecast) sink.forecasts.on('forecast', onForecast);
  return {
    client,
    async stop() {
      if (onForecast) sink.forecasts.off('forecast', onForecast);
      await client.endAsync();
    },
  };
}
