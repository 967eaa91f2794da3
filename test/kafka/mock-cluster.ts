// Starts librdkafka's mock Kafka cluster for a test: test/kafka/mock-cluster.c compiled by gcc
// into a temporary directory (once per test file), run as a child process that prints its
// bootstrap address. The cluster lives until stop() closes its stdin (or this process dies, which
// closes the pipe too), so no broker outlives the test.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SOURCE = fileURLToPath(new URL('./mock-cluster.c', import.meta.url));

export interface MockCluster {
  /** host:port,host:port,... */
  brokers: string;
  stop(): Promise<void>;
}

/** Compile the launcher, start a cluster of `brokers` brokers with the topics (name → partitions). */
export async function startMockCluster(topics: Record<string, number>, brokers = 3): Promise<MockCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'gru-mock-kafka-'));
  const binary = join(dir, 'mock-cluster');
  await promisify(execFile)('gcc', ['-O1', '-o', binary, SOURCE, '-lrdkafka']);
  const child: ChildProcess = spawn(binary, [String(brokers), ...Object.entries(topics).map(([t, p]) => `${t}:${p}`)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`mock cluster exited (${code}) before it was ready: ${stderr}`); });
  const ready = (async () => {
    for await (const line of lines) if (line.startsWith('bootstrap ')) return line.slice('bootstrap '.length).trim();
    throw new Error(`mock cluster printed no bootstrap line: ${stderr}`);
  })();
  const address = await Promise.race([ready, exited]);
  exited.catch(() => undefined);
  return {
    brokers: address,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = once(child, 'exit');
        child.stdin!.end();
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
