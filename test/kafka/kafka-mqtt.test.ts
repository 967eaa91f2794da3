// gru-stream kafka --mqtt-publish: every forecast the instance writes to the output topic is also
// published to a real Mosquitto (QoS 1), the same record with its partition and offset.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutputRecord } from '../../src/kafka/partition-task.js';
import { runKafka } from '../../src/kafka/run-kafka.js';
import { packagePath } from '../../src/util/package-root.js';
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { type MockCluster, startMockCluster } from './mock-cluster.js';

const SERIES = 4;
const STEPS = 10;

describe('gru-stream kafka publishing forecasts to MQTT', () => {
  let cluster: MockCluster;
  let broker: Mosquitto;
  let stateDir: string;

  beforeAll(async () => {
    [cluster, broker] = await Promise.all([startMockCluster({ in: 2, out: 1 }, 1), startMosquitto()]);
    stateDir = await mkdtemp(join(tmpdir(), 'gru-kafka-mqtt-'));
  });

  afterAll(async () => {
    await cluster?.stop();
    await broker?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('publishes every output record, equal to the one on the output topic', async () => {
    const subscriber = mqtt.connect(broker.url, { clientId: 'kafka-mqtt-subscriber' });
    await once(subscriber, 'connect');
    await subscriber.subscribeAsync('forecasts/#', { qos: 1 });
    const published = new Map<string, string>();
    subscriber.on('message', (topic, payload) => {
      const rec = JSON.parse(payload.toString()) as OutputRecord;
      expect(topic).toBe(`forecasts/${rec.series}`);
      published.set(`${rec.partition}@${rec.offset}`, payload.toString());
    });

    const handle = await runKafka({ brokers: cluster.brokers.split(','), inputTopic: 'in', outputTopic: 'out', group: 'g-mqtt', stateDir, model: packagePath('assets/models/sunspot_gru.safetensors'), sessionTimeoutMs: 3000, maxWaitTimeMs: 200, mqtt: { url: broker.url, publish: 'forecasts/{series}' } });
    const written = new Map<string, string>();
    handle.events.on('output', (records: OutputRecord[]) => {
      for (const r of records) written.set(`${r.partition}@${r.offset}`, JSON.stringify(r));
    });
    try {
      const kafka = new Kafka({ clientId: 'test', brokers: cluster.brokers.split(','), logLevel: logLevel.NOTHING });
      const producer = kafka.producer();
      await producer.connect();
      const messages = [];
      for (let i = 0; i < STEPS; i++) for (let s = 0; s < SERIES; s++) messages.push({ key: `pump-${s}`, value: String(50 + 10 * Math.sin(s + i / 2)) });
      await producer.send({ topic: 'in', messages });
      await producer.disconnect();
      // Every record is forecast and published (the subscriber counts what arrives).
      while (published.size < SERIES * STEPS) await once(subscriber, 'message');
      expect(written.size).toBe(SERIES * STEPS);
      for (const [key, text] of written) expect(JSON.parse(published.get(key) ?? 'null'), key).toEqual(JSON.parse(text));
      const metrics = await handle.metrics.registry.metrics();
      expect(metrics).toMatch(new RegExp(`^gru_stream_mqtt_published_total ${SERIES * STEPS}$`, 'm'));
    } finally {
      await handle.close();
      await subscriber.endAsync();
    }
  });
});
