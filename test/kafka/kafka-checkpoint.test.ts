// A partition whose checkpoint belongs to another model must stop the instance loudly (exit 1 from
// the CLI, 503 on /healthz), never forecast from a state that is not this partition's.
import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFingerprint } from '../../src/checkpoint/fingerprint.js';
import { fileCheckpointStore } from '../../src/kafka/checkpoint-store.js';
import { PartitionTask } from '../../src/kafka/partition-task.js';
import { runKafka } from '../../src/kafka/run-kafka.js';
import { loadModel } from '../../src/model/load-model.js';
import { createPredictor } from '../../src/stream/predictor.js';
import { packagePath } from '../../src/util/package-root.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { type MockCluster, startMockCluster } from './mock-cluster.js';

describe('gru-stream kafka: a checkpoint of another model', () => {
  let cluster: MockCluster;
  let stateDir: string;

  beforeAll(async () => {
    cluster = await startMockCluster({ in: 1, out: 1 }, 1);
    stateDir = await mkdtemp(join(tmpdir(), 'gru-kafka-foreign-'));
  });

  afterAll(async () => {
    await cluster?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('stops the instance with the checkpoint error instead of forecasting', async () => {
    const foreign = await loadModel(join(fixturesDir, 'models', 'eustock_gru.safetensors'));
    const other = createPredictor(foreign);
    const store = fileCheckpointStore(stateDir, modelFingerprint(foreign));
    await store.save(PartitionTask.checkpointName('in', 0), { nextOffset: 0, state: await other.exportState() });
    other.destroy();

    const kafka = new Kafka({ clientId: 'test', brokers: cluster.brokers.split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'in', messages: [{ key: 'a', value: '1.5' }] });
    await producer.disconnect();

    const lines: string[] = [];
    const handle = await runKafka({ brokers: cluster.brokers.split(','), inputTopic: 'in', outputTopic: 'out', group: 'g', stateDir, model: packagePath('assets/models/sunspot_gru.safetensors'), sessionTimeoutMs: 3000, maxWaitTimeMs: 200, port: 0, log: (l) => lines.push(l) });
    try {
      const err = await handle.failed.catch((e: { code: string }) => e);
      expect(err.code).toBe('ERR_CHECKPOINT_MODEL');
      const health = await fetch(`${handle.url}healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { status: string }).status).toBe('failed');
      expect(lines.join('\n')).toMatch(/stopping: ERR_CHECKPOINT_MODEL/);
    } finally {
      await handle.close();
    }
  });
});

describe('partition checkpoint store', () => {
  it('falls back to the previous good checkpoint when the newest is torn, and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gru-kafka-store-'));
    try {
      const model = await loadModel(packagePath('assets/models/sunspot_gru.safetensors'));
      const p = createPredictor(model);
      const state = await p.exportState();
      p.destroy();
      const logs: string[] = [];
      const writer = fileCheckpointStore(dir, modelFingerprint(model));
      await writer.save('in-0', { nextOffset: 10, state });
      await writer.save('in-0', { nextOffset: 20, state });
      const files = (await readdir(dir)).filter((f) => f.endsWith('.ckpt')).sort();
      expect(files).toEqual(['in-0.000000000001.ckpt', 'in-0.000000000002.ckpt']);
      await truncate(join(dir, files[1]), 40); // torn mid-write
      const reader = fileCheckpointStore(dir, modelFingerprint(model), (l) => logs.push(l));
      expect((await reader.load('in-0'))?.nextOffset).toBe(10);
      expect(logs.join('\n')).toMatch(/in-0\.000000000002\.ckpt skipped .*falling back to in-0\.000000000001\.ckpt/);
      // The next owner's generations continue past every file on disk.
      await reader.save('in-0', { nextOffset: 30, state });
      expect((await fileCheckpointStore(dir, modelFingerprint(model)).load('in-0'))?.nextOffset).toBe(30);
      expect(await fileCheckpointStore(dir, modelFingerprint(model)).load('in-1')).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names a partition of any legal Kafka topic by a valid checkpoint key', () => {
    expect(PartitionTask.checkpointName('samples', 3)).toBe('samples-3');
    for (const topic of ['_internal', '.x', 'a'.repeat(249)]) expect(PartitionTask.checkpointName(topic, 7)).toMatch(/^topic-[0-9a-f]{32}-7$/);
  });
});
