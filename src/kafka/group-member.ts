import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs';
import { isGruStreamError } from '../errors.js';
import type { GruModel } from '../model/model.js';
import type { PredictorOptions } from '../stream/predictor-options.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { KafkaMetrics } from './kafka-metrics.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { type OutputRecord, PartitionTask } from './partition-task.js';

/** Errors opening a partition's checkpoint that retrying cannot fix. */
const FATAL_OPEN = new Set<string>(['ERR_CHECKPOINT_MODEL', 'ERR_CHECKPOINT_CORRUPT', 'ERR_STATE_FORMAT']);

/**
 * One member of the consumer group: a kafkajs consumer (replaced when it crashes), a producer, and
 * one PartitionTask per assigned input partition.
 *
 *   assignment ─▶ first batch of partition p: open p's checkpoint, seek to its offset if the group's
 *                 committed offset is ahead of it (records below it are dropped as duplicates)
 *   each batch ─▶ task.apply (state) ─▶ producer.send, acks=all (output) ─▶ resolveOffset
 *                 ─▶ every checkpointInterval: task.checkpoint (state + next offset, one file)
 *   rebalance  ─▶ checkpoint every task; after the join, close the tasks no longer assigned
 *   crash      ─▶ a new consumer rejoins; the tasks stay and re-check their position
 *   stop()     ─▶ no new batches, checkpoint every task, leave the group
 *
 * Output is acknowledged before the offset it answers can enter a checkpoint, so every input record
 * has its forecast in the output topic at least once. A failed send discards the task unsaved: its
 * next batch reopens the last checkpoint, and nothing past it is lost or applied twice.
 */
export class GroupMember {
  private consumer: Consumer | null = null;
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly lag = new Map<number, number>();
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  /** Partitions of the last assignment, for /healthz. */
  assigned: number[] = [];
  memberId: string | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly opts: ResolvedKafkaOptions,
    private readonly model: GruModel,
    private readonly predictorOptions: PredictorOptions,
    private readonly store: CheckpointStore,
    private readonly metrics: KafkaMetrics,
    private readonly onOutput: (records: OutputRecord[]) => void,
    private readonly onFatal: (err: Error) => void,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.opts.group,
      sessionTimeout: this.opts.sessionTimeoutMs,
      rebalanceTimeout: this.opts.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(this.opts.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: this.opts.maxWaitTimeMs,
      // With transactions, read only committed output of upstream transactional producers.
      readUncommitted: false,
    });
    this.consumer = consumer;
    const { GROUP_JOIN, REBALANCING, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => this.onJoin(e.payload.memberId, e.payload.memberAssignment[this.opts.inputTopic] ?? []));
    consumer.on(REBALANCING, () => void this.checkpointAll('rebalance'));
    consumer.on(CRASH, (e) => {
      if (this.stopping) return;
      this.metrics.consumerRestarts.inc();
      const err = e.payload.error as Error;
      // kafkajs restarts by itself after retriable errors; after the others (for example a group
      // protocol error such as INVALID_REQUEST from SyncGroup) the consumer stays stopped, so a new
      // one replaces it. The tasks survive either way and re-check their position after the join.
      this.opts.log(`gru-stream: kafka: consumer crashed (${err.name}: ${err.message}); ${e.payload.restart ? 'kafkajs restarts it' : 'starting a new consumer'}`);
      if (!e.payload.restart) this.scheduleRestart();
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.opts.inputTopic, fromBeginning: true });
      await consumer.run({
        autoCommit: !this.opts.exactlyOnce,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.eachBatch(consumer, payload),
      });
    } catch (err) {
      if (this.stopping) return;
      this.metrics.consumerRestarts.inc();
      this.opts.log(`gru-stream: kafka: consumer failed to start (${(err as Error).message}); retrying`);
      await consumer.disconnect().catch(() => undefined);
      this.scheduleRestart();
    }
  }

  private scheduleRestart(): void {
    if (this.stopping || this.restartTimer) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) void this.start();
    }, this.opts.restartDelayMs);
  }

  private onJoin(memberId: string, partitions: number[]): void {
    this.metrics.rebalances.inc();
    this.memberId = memberId;
    this.assigned = [...partitions].sort((a, b) => a - b);
    this.opts.log(`gru-stream: kafka: assigned partitions [${this.assigned.join(',')}] of ${this.opts.inputTopic} (group ${this.opts.group})`);
    const keep = new Set(partitions);
    for (const [p, task] of this.tasks) {
      if (keep.has(p)) {
        // kafkajs restarts a kept partition from the group's committed offset: check it again.
        task.committedAtOpen = null;
        continue;
      }
      this.tasks.delete(p);
      this.lag.delete(p);
      void task.run(async () => {
        await this.saveCheckpoint(task);
        await task.close();
      }).catch((err: Error) => this.opts.log(`gru-stream: kafka: closing partition ${p} failed: ${err.message}`));
    }
  }

  private async eachBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const first = batch.firstOffset();
    if (this.stopping || !isRunning() || isStale() || first === null) return;
    const p = batch.partition;
    let task = this.tasks.get(p);
    if (!task) {
      try {
        task = await PartitionTask.open(this.opts.inputTopic, p, this.model, this.predictorOptions, this.store);
      } catch (err) {
        // A checkpoint of another model, or none intact: going on would forecast from a state
        // that is not this partition's. Stop, say why, and let an operator decide.
        if (isGruStreamError(err) && FATAL_OPEN.has(err.code)) {
          this.onFatal(err);
          return;
        }
        throw err;
      }
      this.tasks.set(p, task);
      this.opts.log(`gru-stream: kafka: partition ${p} opened at offset ${task.nextOffset} (${task.checkpointOffset < 0 ? 'no checkpoint' : 'checkpoint'}, ${task.liveSeries()} series)`);
    }
    const t = task;
    await t.run(async () => {
      if (this.stopping || t.closed) return;
      if (t.committedAtOpen === null) {
        // The first batch after a join starts at the group's committed offset. Past our state's
        // offset (another member went further than its last checkpoint): go back and redo the gap.
        t.committedAtOpen = Number(first);
        if (Number(first) > t.nextOffset) {
          consumer.seek({ topic: batch.topic, partition: p, offset: String(t.nextOffset) });
          return;
        }
      }
      try {
        await this.process(t, batch.messages, Number(batch.highWatermark));
      } catch (err) {
        // State moved past output that was not acknowledged: drop it unsaved, reopen from the checkpoint.
        this.tasks.delete(p);
        await t.close();
        throw err;
      }
      resolveOffset(batch.lastOffset());
      if (Date.now() - t.lastCheckpointAt >= this.opts.checkpointIntervalMs) await this.saveCheckpoint(t);
    });
    await heartbeat();
  }

  private async process(task: PartitionTask, messages: EachBatchPayload['batch']['messages'], highWatermark: number): Promise<void> {
    const committed = task.committedAtOpen ?? 0;
    const result = await task.apply(messages);
    const { out } = result;
    this.metrics.duplicates.inc(result.duplicates);
    this.metrics.recordsIn.inc(out.length + result.rejected.length);
    for (const r of result.rejected) {
      this.metrics.rejected.inc({ code: r.code });
      this.opts.log(`gru-stream: ${r.code}: partition ${r.partition} offset ${r.offset}: ${r.message}`);
    }
    let replayed = 0;
    while (replayed < out.length && out[replayed].offset < committed) replayed++;
    this.metrics.replayed.inc(replayed);
    // With transactions the group's committed offset says what was output: the replayed records'
    // forecasts are in a committed transaction already, so only the state is redone.
    const send = this.opts.exactlyOnce ? out.slice(replayed) : out;
    const messagesOut: Message[] = send.map((r) => ({ key: r.series, value: JSON.stringify(r) }));
    if (this.opts.exactlyOnce) await this.sendInTransaction(task, messagesOut);
    else if (messagesOut.length > 0) await this.producer.send({ topic: this.opts.outputTopic, messages: messagesOut });
    this.metrics.recordsOut.inc(messagesOut.length);
    this.lag.set(task.partition, Math.max(0, highWatermark - task.nextOffset));
    if (send.length > 0) this.onOutput(send);
  }

  private async sendInTransaction(task: PartitionTask, messages: Message[]): Promise<void> {
    const txn = await this.producer.transaction();
    try {
      if (messages.length > 0) await txn.send({ topic: this.opts.outputTopic, messages });
      await txn.sendOffsets({ consumerGroupId: this.opts.group, topics: [{ topic: this.opts.inputTopic, partitions: [{ partition: task.partition, offset: String(task.nextOffset) }] }] });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw err;
    }
  }

  private async saveCheckpoint(task: PartitionTask): Promise<void> {
    if (task.closed) return;
    const ms = await task.checkpoint();
    this.metrics.checkpoints.inc();
    this.metrics.checkpointDuration.observe(ms / 1000);
  }

  /** Checkpoint every task (each after its in-flight batch). Failures are logged, not thrown. */
  async checkpointAll(why: string): Promise<void> {
    await Promise.all([...this.tasks.values()].map((task) => task.run(() => this.saveCheckpoint(task)).catch((err: Error) => {
      this.opts.log(`gru-stream: kafka: checkpoint of partition ${task.partition} (${why}) failed: ${err.message}`);
    })));
  }

  partitions(): Array<{ partition: number; nextOffset: number; lag: number | null; lastCheckpointAt: number; checkpointOffset: number }> {
    return [...this.tasks.values()].map((t) => ({ partition: t.partition, nextOffset: t.nextOffset, lag: this.lag.get(t.partition) ?? null, lastCheckpointAt: t.lastCheckpointAt, checkpointOffset: t.checkpointOffset }));
  }

  liveSeries(): number {
    let n = 0;
    for (const t of this.tasks.values()) n += t.liveSeries();
    return n;
  }

  /** Stop taking batches, checkpoint every partition, then leave the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.checkpointAll('shutdown');
    await this.consumer?.disconnect().catch(() => undefined);
    await Promise.all([...this.tasks.values()].map((t) => t.run(() => t.close())));
    this.tasks.clear();
  }
}
