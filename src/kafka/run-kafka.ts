import { EventEmitter } from 'node:events';
import { Kafka, logLevel } from 'kafkajs';
import { isGruStreamError } from '../errors.js';
import { loadModel } from '../model/load-model.js';
import type { GruModel } from '../model/model.js';
import { resolvePredictorOptions } from '../stream/predictor-options.js';
import { packageVersion } from '../util/package-root.js';
import { modelFingerprint } from '../checkpoint/fingerprint.js';
import { startMqttBridge } from '../mqtt/mqtt-bridge.js';
import { fileCheckpointStore } from './checkpoint-store.js';
import { GroupMember } from './group-member.js';
import { KafkaMetrics } from './kafka-metrics.js';
import { type KafkaOptions, resolveKafkaOptions } from './kafka-options.js';
import { startOpsServer } from './ops-server.js';
import type { OutputRecord } from './partition-task.js';

export interface KafkaHandle {
  model: GruModel;
  metrics: KafkaMetrics;
  /** 'output' (OutputRecord[] of each acknowledged batch). */
  events: EventEmitter;
  /** http://host:port/ of /healthz and /metrics, when options.port was given. */
  url: string | undefined;
  /** Rejects when the instance must stop (a partition's checkpoint is of another model, or corrupt); never resolves otherwise. */
  failed: Promise<never>;
  /** The /healthz body. */
  health(): object;
  /** Checkpoint every partition, leave the group, disconnect. */
  close(): Promise<void>;
}

/** Join the group and forecast the input topic into the output topic until close(). */
export async function runKafka(options: KafkaOptions): Promise<KafkaHandle> {
  const opts = resolveKafkaOptions(options);
  const model = typeof options.model === 'string' ? await loadModel(options.model) : options.model;
  const predictorOptions = options.predictor ?? {};
  resolvePredictorOptions(model, predictorOptions); // fail at start, not at the first partition
  const store = options.store ?? fileCheckpointStore(opts.stateDir, modelFingerprint(model), opts.log);
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    sasl: options.sasl,
    ssl: options.ssl,
    logLevel: logLevel.NOTHING,
  });
  const producer = opts.exactlyOnce
    ? kafka.producer({ transactionalId: `${opts.group}-${opts.clientId}`, idempotent: true, maxInFlightRequests: 1 })
    : kafka.producer();
  const events = new EventEmitter();
  let failure: Error | null = null;
  let fail!: (err: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const started = Date.now();
  let member: GroupMember | undefined;
  const metrics = new KafkaMetrics({ partitions: () => member?.partitions() ?? [], liveSeries: () => member?.liveSeries() ?? 0 });
  const health = (): object => ({
    status: failure ? 'failed' : 'ok',
    ...(failure ? { error: failure.message } : {}),
    version: packageVersion(),
    uptimeSeconds: (Date.now() - started) / 1000,
    group: opts.group,
    memberId: member?.memberId ?? null,
    inputTopic: opts.inputTopic,
    outputTopic: opts.outputTopic,
    exactlyOnce: opts.exactlyOnce,
    assigned: member?.assigned ?? [],
    partitions: (member?.partitions() ?? []).map((p) => ({ ...p, checkpointAgeSeconds: (Date.now() - p.lastCheckpointAt) / 1000, lastCheckpointAt: undefined })),
    liveSeries: member?.liveSeries() ?? 0,
  });
  // The port first: a port in use fails the start before this instance joins the group.
  let ops: Awaited<ReturnType<typeof startOpsServer>> | null = null;
  try {
    ops = opts.port === undefined ? null : await startOpsServer(opts.host, opts.port, metrics.registry, () => ({ failed: failure !== null, body: health() }));
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw err;
  }
  await producer.connect();
  const m = new GroupMember(kafka, producer, opts, model, predictorOptions, store, metrics, (records: OutputRecord[]) => events.emit('output', records), (err) => {
    if (failure) return;
    failure = err;
    opts.log(`gru-stream: kafka: stopping: ${isGruStreamError(err) ? `${err.code}: ` : ''}${err.message}`);
    fail(err);
  });
  member = m;
  // Forecasts to MQTT too (publish-only bridge): every record of an acknowledged batch, QoS 1.
  const forecasts = new EventEmitter();
  const bridge = opts.mqtt ? startMqttBridge(opts.mqtt, { forecasts, events, registry: metrics.registry, log: opts.log }) : null;
  if (bridge) events.on('output', (records: OutputRecord[]) => {
    for (const r of records) forecasts.emit('forecast', r);
  });
  await m.start();
  let closed: Promise<void> | undefined;
  return {
    model,
    metrics,
    events,
    failed,
    url: ops?.url,
    health,
    close: () => {
      closed ??= (async () => {
        await m.stop();
        await bridge?.stop();
        await producer.disconnect().catch(() => undefined);
        await ops?.close();
      })();
      return closed;
    },
  };
}
