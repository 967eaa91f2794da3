// MQTT ingest and publish through a real Mosquitto that is restarted mid-stream. Samples published
// at QoS 1 while the server's client is away are queued by the broker for its persistent session
// (and survive the broker's restart in its database); forecasts come back on the publish topic,
// every one, each equal to `gru-stream predict` over the same samples. Waits are on MQTT events.
import { once } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeHandle, serve } from '../../src/serve/server.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { runCli } from '../helpers/cli.js';
import { ForecastTally } from '../helpers/forecast-tally.js';
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';

const SERIES = 20;
const STEPS = 30;

async function connectClient(url: string, clientId: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 100 });
  await once(client, 'connect');
  return client;
}

describe('serve --mqtt through a broker restart', () => {
  let broker: Mosquitto;
  let handle: ServeHandle | undefined;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await handle?.close();
    await broker?.stop();
  });

  it('loses nothing, and every forecast equals predict', async () => {
    const rng = seededRandom(5);
    const data = Array.from({ length: SERIES }, (_, s) => Array.from({ length: STEPS }, (_, i) => Math.round((60 + 40 * Math.sin(s + i / 3) + 5 * rng()) * 100) / 100));
    const lines: string[] = [];
    for (let i = 0; i < STEPS; i++) for (let s = 0; s < SERIES; s++) lines.push(JSON.stringify({ series: `pump-${s}`, value: data[s][i] }));
    const ref = await runCli(['predict'], `${lines.join('\n')}\n`);
    expect(ref.code).toBe(0);
    const expected = new Map(ref.stdout.trim().split('\n').map((l) => {
      const r = JSON.parse(l);
      return [`${r.series}|${r.t}`, JSON.stringify(r.forecast)];
    }));

    // The subscriber's own persistent session queues forecasts published while it is away too.
    const subscriber = await connectClient(broker.url, 'test-forecast-reader');
    clients.push(subscriber);
    await subscriber.subscribeAsync('forecasts/+', { qos: 1 });
    const tally = new ForecastTally(expected);
    subscriber.on('message', (topic, payload) => {
      const r = JSON.parse(payload.toString()) as { series: string; t: number; forecast: number[] | null };
      tally.add(r, topic === `forecasts/${r.series}`, topic);
    });

    // The server reconnects every 500 ms: slow enough that the producer is back first.
    handle = await serve({ port: 0, mqtt: { url: broker.url, topic: 'sensors/+/reading', publish: 'forecasts/{series}', clientId: 'gru-stream-test', reconnectPeriodMs: 500 } });
    // Connecting takes network round trips, so the event cannot have fired before this line.
    await once(handle.events, 'mqtt-ready');
    const publish = async (client: MqttClient, from: number, to: number): Promise<void> => {
      const acks: Promise<unknown>[] = [];
      // Bare numbers: the series id comes from the topic.
      for (let i = from; i < to; i++) for (let s = 0; s < SERIES; s++) acks.push(client.publishAsync(`sensors/pump-${s}/reading`, String(data[s][i]), { qos: 1 }));
      await Promise.all(acks);
    };
    let producer = await connectClient(broker.url, 'test-producer');
    await publish(producer, 0, STEPS / 2);
    await tally.until((SERIES * STEPS) / 2);

    const serverBack = once(handle.events, 'mqtt-connect');
    let serverReconnected = false;
    void serverBack.then(() => (serverReconnected = true));
    await producer.endAsync();
    await broker.restart();
    // Published while the server's client is still away: only the broker's queue for its
    // persistent session can deliver these.
    producer = await connectClient(broker.url, 'test-producer');
    clients.push(producer);
    await publish(producer, STEPS / 2, STEPS);
    const queuedWhileAway = !serverReconnected;
    const [{ sessionPresent }] = (await serverBack) as [{ sessionPresent: boolean }];
    await tally.until(SERIES * STEPS);

    expect(queuedWhileAway).toBe(true);
    expect(sessionPresent).toBe(true);
    expect(tally.mismatches.slice(0, 5)).toEqual([]);
    expect(tally.seen.size).toBe(SERIES * STEPS);
    for (const k of expected.keys()) expect(tally.seen.has(k), k).toBe(true);
    const metrics = await handle.metrics.registry.metrics();
    expect(metrics).toMatch(/^gru_stream_samples_in_total\{source="mqtt"\} 600$/m);
  });

  it('drops a message delivered again when its sample carries a seq', async () => {
    const dedup = await serve({ port: 0, mqtt: { url: broker.url, topic: 'dedup/+/reading', publish: 'dedup-forecasts/{series}', clientId: 'gru-stream-dedup', reconnectPeriodMs: 500 } });
    try {
      const subscriber = await connectClient(broker.url, 'dedup-subscriber');
      const producer = await connectClient(broker.url, 'dedup-producer');
      clients.push(subscriber, producer);
      await subscriber.subscribeAsync('dedup-forecasts/#', { qos: 1 });
      const seqs: number[] = [];
      const lastArrived = new Promise<void>((resolve) => subscriber.on('message', (_t, payload) => {
        const rec = JSON.parse(payload.toString()) as { seq?: number };
        seqs.push(rec.seq ?? -1);
        if (rec.seq === 5) resolve();
      }));
      // seq 2 and 3 come twice, as a broker redelivers unacknowledged QoS 1 messages.
      for (const seq of [0, 1, 2, 3, 4, 2, 3, 5]) await producer.publishAsync('dedup/pump/reading', JSON.stringify({ value: 50 + seq, seq }), { qos: 1 });
      await lastArrived;
      expect(seqs).toEqual([0, 1, 2, 3, 4, 5]);
      expect(await dedup.metrics.registry.metrics()).toMatch(/^gru_stream_duplicate_samples_total 2$/m);
    } finally {
      await dedup.close();
    }
  });
});
