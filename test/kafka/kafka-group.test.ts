// Acceptance: two `gru-stream kafka` processes in one group on librdkafka's mock cluster (a real
// Kafka protocol peer), a 6-partition input topic of 200 series x 50 samples. One process is
// SIGKILLed mid-stream and started again. Every input record must get a forecast in the output
// topic, and every forecast there, duplicates included, must equal what one uninterrupted
// `gru-stream predict` over the same samples gives. Waits are on events: output records seen and
// the processes' own log lines, never timers.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/util/seeded-random.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { ForecastTally } from '../helpers/forecast-tally.js';
import { type MockCluster, startMockCluster } from './mock-cluster.js';

const SERIES = 200;
const STEPS = 50;
/** Samples per series produced before the restart: halfway, then up to here, then the rest. */
const THIRD_QUARTER = 38;
const INPUT = 'samples';
const OUTPUT = 'forecasts';
const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

interface OutputValue {
  series: string;
  t: number;
  forecast: number[] | null;
  partition: number;
  offset: number;
}

/** A child `gru-stream kafka` whose stderr lines a test can wait for. */
class Instance {
  readonly child: ChildProcess;
  private log = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<unknown>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, 'kafka', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer): void => {
      this.log += d.toString();
      for (const w of [...this.waiters]) w();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = once(this.child, 'exit');
  }

  get output(): string {
    return this.log;
  }

  /** Resolves once the log matches `re` (searched from `from` characters on). */
  waitFor(re: RegExp, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.log.slice(from).match(re);
        if (m) {
          this.waiters.delete(check);
          resolve(m);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          this.waiters.delete(check);
          reject(new Error(`instance exited before ${re}: ${this.log}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }
}

/** Deterministic positive sunspot-like samples, different per series. */
function samples(): Array<{ series: string; value: number }[]> {
  const rng = seededRandom(11);
  const bySeries: Array<{ series: string; value: number }[]> = [];
  for (let s = 0; s < SERIES; s++) {
    const phase = rng() * 6.28;
    const level = 20 + rng() * 80;
    bySeries.push(Array.from({ length: STEPS }, (_, i) => ({ series: `sensor-${s}`, value: Math.round((level + 40 * Math.sin(phase + i / 4) + 10 * rng()) * 100) / 100 })));
  }
  return bySeries;
}

describe('gru-stream kafka: two instances, one SIGKILLed mid-stream', () => {
  let cluster: MockCluster;
  let stateDir: string;
  const instances: Instance[] = [];

  beforeAll(async () => {
    cluster = await startMockCluster({ [INPUT]: 6, [OUTPUT]: 6 });
    stateDir = await mkdtemp(join(tmpdir(), 'gru-kafka-state-'));
  });

  afterAll(async () => {
    for (const i of instances) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
    await Promise.all(instances.map((i) => i.exited));
    await cluster?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('forecasts every record, and every forecast equals uninterrupted predict', async ({ onTestFailed }) => {
    onTestFailed(() => {
      for (const [n, i] of instances.entries()) console.log(`--- instance ${n} (pid ${i.child.pid})\n${i.output}`);
    });
    const data = samples();
    // The reference: one uninterrupted predict over every sample (series interleaved, as produced).
    const ndjson = data[0].map((_, i) => data.map((s) => JSON.stringify(s[i])).join('\n')).join('\n');
    const ref = await runCli(['predict', '--input', '-'], `${ndjson}\n`);
    expect(ref.code).toBe(0);
    const expected = new Map<string, string>();
    for (const line of ref.stdout.trim().split('\n')) {
      const r = JSON.parse(line) as { series: string; t: number; forecast: number[] | null };
      expected.set(`${r.series}|${r.t}`, JSON.stringify(r.forecast));
    }
    expect(expected.size).toBe(SERIES * STEPS);

    const kafka = new Kafka({ clientId: 'test', brokers: cluster.brokers.split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const verifier = kafka.consumer({ groupId: 'verifier', maxWaitTimeInMs: 200, sessionTimeout: 6000 });
    await verifier.connect();
    await verifier.subscribe({ topic: OUTPUT, fromBeginning: true });
    const tally = new ForecastTally(expected);
    await verifier.run({
      eachMessage: async ({ message }) => {
        const v = JSON.parse(message.value!.toString()) as OutputValue;
        tally.add(v, message.key?.toString() === v.series, `key ${message.key?.toString()}`);
      },
    });
    const produce = async (from: number, to: number): Promise<void> => {
      const messages = [];
      for (let i = from; i < to; i++) for (const s of data) messages.push({ key: s[i].series, value: JSON.stringify({ value: s[i].value }) });
      await producer.send({ topic: INPUT, messages });
    };

    // Checkpoints only at rebalances and shutdown: the killed instance's progress since its last
    // rebalance is lost with it, so its successor must redo it from a checkpoint (duplicates).
    const args = (name: string): string[] => ['--brokers', cluster.brokers, '--input-topic', INPUT, '--output-topic', OUTPUT, '--group', 'fleet',
      '--state-dir', stateDir, '--checkpoint-interval', '60000', '--session-timeout', '3000', '--max-wait', '200', '--client-id', name];
    const a = new Instance(args('a'));
    const b = new Instance([...args('b'), '--port', '0']);
    instances.push(a, b);
    // Both members hold three partitions each.
    await Promise.all([a.waitFor(/assigned partitions \[\d,\d,\d\]/), b.waitFor(/assigned partitions \[\d,\d,\d\]/)]);

    await produce(0, STEPS / 2);
    await tally.until((SERIES * STEPS) / 2);
    const bLog = b.output.length;
    a.child.kill('SIGKILL');
    await a.exited;
    // Mid-stream: the third quarter arrives while a is dead; b takes all six partitions.
    await produce(STEPS / 2, THIRD_QUARTER);
    await b.waitFor(/assigned partitions \[0,1,2,3,4,5\]/, bLog);
    await tally.until(SERIES * THIRD_QUARTER);
    // a comes back; the group rebalances (b checkpoints first) and the last quarter is forecast by
    // whoever holds each partition now, from the state the checkpoints handed over.
    const a2 = new Instance(args('a2'));
    instances.push(a2);
    await a2.waitFor(/assigned partitions \[\d/);
    await produce(THIRD_QUARTER, STEPS);
    await tally.until(SERIES * STEPS);
    await producer.disconnect();
    await verifier.disconnect();

    // b's operations endpoints (it served from the start and took over a's partitions).
    const [, opsUrl] = await b.waitFor(/health and metrics at (http:\S+)/);
    const health = await (await fetch(`${opsUrl}healthz`)).json() as { status: string; group: string; partitions: Array<{ partition: number; lag: number | null }> };
    expect(health.status).toBe('ok');
    expect(health.group).toBe('fleet');
    expect(health.partitions.length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${opsUrl}metrics`)).text();
    const metric = (name: string): number => Number(metrics.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'))?.[1] ?? NaN);
    expect(metric('gru_stream_kafka_records_in_total')).toBeGreaterThan(0);
    expect(metric('gru_stream_kafka_records_out_total')).toBeGreaterThanOrEqual(metric('gru_stream_kafka_records_in_total'));
    expect(metric('gru_stream_kafka_rebalances_total')).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^gru_stream_kafka_consumer_lag\{partition="\d"\} 0$/m);
    expect(metrics).toMatch(/^gru_stream_kafka_checkpoint_age_seconds\{partition="\d"\} /m);

    // A clean stop: SIGTERM checkpoints every partition, then leaves the group.
    for (const i of [b, a2]) i.child.kill('SIGTERM');
    const codes = await Promise.all([b.exited, a2.exited]);
    expect(codes.map((c) => (c as [number | null])[0])).toEqual([0, 0]);
    // Each partition's checkpoints on the checkpoint layer: the newest and at most one previous good one.
    const files = await readdir(stateDir);
    for (const p of [0, 1, 2, 3, 4, 5]) {
      const mine = files.filter((f) => new RegExp(`^${INPUT}-${p}\\.\\d{12}\\.ckpt$`).test(f));
      expect(mine.length, `partition ${p}: ${files.join(' ')}`).toBeGreaterThanOrEqual(1);
      expect(mine.length).toBeLessThanOrEqual(2);
    }
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const { duplicates, received, seen } = tally;
    console.log(`kafka acceptance: ${received} forecast records for ${seen.size} input records, ${duplicates} duplicates (at-least-once after the SIGKILL)`);
    expect(tally.mismatches.slice(0, 5)).toEqual([]);
    expect(seen.size).toBe(SERIES * STEPS);
    for (const k of expected.keys()) expect(seen.has(k), k).toBe(true);
    // The killed instance had forecast its partitions' first half with no checkpoint since its
    // join: its successor redid that work, so duplicates must have occurred and been verified.
    expect(duplicates).toBeGreaterThan(0);
    // And some partition changed hands through a checkpoint that was not empty.
    expect(`${b.output.slice(bLog)}${a2.output}`).toMatch(/opened at offset [1-9]\d* \(checkpoint/);
  });
});
