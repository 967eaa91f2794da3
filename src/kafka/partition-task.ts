import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { isGruStreamError } from '../errors.js';
import type { GruModel } from '../model/model.js';
import type { ErrorRecord, Forecast, Predictor } from '../stream/predictor.js';
import { createPredictor } from '../stream/predictor.js';
import type { PredictorOptions } from '../stream/predictor-options.js';
import { sampleFromPayload } from '../stream/payload.js';
import type { CheckpointStore } from './checkpoint-store.js';

/** A Kafka record as the task needs it (kafkajs' KafkaMessage, narrowed). */
export interface InputRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** What goes to the output topic: predict's forecast record, plus the input it answers. */
export type OutputRecord = Omit<Forecast, 'actual'> & { partition: number; offset: number };

export interface ApplyResult {
  /** In input order: one per applied record that was a valid sample. */
  out: OutputRecord[];
  /** Records below the checkpoint's offset: their effect is in the state already. */
  duplicates: number;
  rejected: RejectedRecord[];
}

/** An input record that was not a usable sample (logged and counted; its offset still advances). */
export interface RejectedRecord {
  code: string;
  message: string;
  partition: number;
  offset: number;
}

/**
 * The keyed state of ONE input partition: its own predictor (so its series can be checkpointed
 * and handed over without touching another partition's) and the next offset it expects.
 *
 * Invariant: the predictor's state is exactly the result of applying every record of the partition
 * below `nextOffset`, in offset order, once. apply() keeps it (records below are skipped, the rest
 * applied in order); checkpoint() saves state and offset together, so they never disagree; open()
 * restores both. Stepping is deterministic, so a checkpoint at offset N is the same whoever wrote
 * it: two instances that briefly both hold a partition during a rebalance write equal states for
 * equal offsets, and a stale checkpoint costs re-processing (duplicate output), never wrong state.
 *
 * One operation at a time (apply, checkpoint, close): run() chains them.
 */
export class PartitionTask {
  private chain: Promise<unknown> = Promise.resolve();
  private collected: Array<Forecast | ErrorRecord> = [];
  private want = 0;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  /** Date.now() of the last saved checkpoint (or of open() when none was saved yet). */
  lastCheckpointAt: number;
  /** Offset of the last checkpoint saved or loaded (-1: none). */
  checkpointOffset: number;
  /** Set after the first batch: where the group's committed offset had kafkajs start fetching. */
  committedAtOpen: number | null = null;
  closed = false;

  private constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly predictor: Predictor,
    public nextOffset: number,
    private readonly store: CheckpointStore,
  ) {
    this.lastCheckpointAt = Date.now();
    this.checkpointOffset = nextOffset;
    // Flowing mode: forecasts arrive synchronously as each batch completes, in input order.
    predictor.on('data', (record: Forecast | ErrorRecord) => {
      this.collected.push(record);
      if (this.collected.length === this.want) this.wake?.();
    });
    predictor.on('error', (err: Error) => {
      this.failure = err;
      this.wake?.();
    });
  }

  static checkpointName(topic: string, partition: number): string {
    const plain = `${topic}-${partition}`;
    // A checkpoint key is [A-Za-z0-9][A-Za-z0-9._-]{0,127}; Kafka topics may start with '.' or '_'
    // and run to 249 characters: those are named by a digest of the topic instead.
    return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(plain) ? plain : `topic-${createHash('sha256').update(topic).digest('hex').slice(0, 32)}-${partition}`;
  }

  /** The partition's task from its last checkpoint (or empty at offset 0 when there is none). */
  static async open(topic: string, partition: number, model: GruModel, options: PredictorOptions, store: CheckpointStore): Promise<PartitionTask> {
    const checkpoint = await store.load(PartitionTask.checkpointName(topic, partition));
    // 'output': every written sample yields exactly one record, so record i answers write i.
    const predictor = createPredictor(model, { ...options, onInvalid: 'output' });
    const task = new PartitionTask(topic, partition, predictor, checkpoint?.nextOffset ?? 0, store);
    if (checkpoint) {
      await predictor.importState(checkpoint.state);
    } else task.checkpointOffset = -1;
    return task;
  }

  /** Run fn after every earlier operation on this task. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Apply records (consecutive, in offset order) to the state; resolves with their forecasts. */
  async apply(records: readonly InputRecord[]): Promise<ApplyResult> {
    const result: ApplyResult = { out: [], duplicates: 0, rejected: [] };
    const offsets: number[] = [];
    this.collected = [];
    this.want = 0;
    for (const r of records) {
      const offset = Number(r.offset);
      if (offset < this.nextOffset) {
        result.duplicates++;
        continue;
      }
      this.nextOffset = offset + 1;
      let sample: Record<string, unknown>;
      try {
        sample = sampleFromPayload(r.value?.toString('utf8') ?? '', r.key?.toString('utf8'), false);
      } catch (err) {
        if (!isGruStreamError(err)) throw err;
        result.rejected.push({ code: err.code, message: err.message, partition: this.partition, offset });
        continue;
      }
      // The offset is this path's sequence number (records below nextOffset were dropped above);
      // a `seq` would let the predictor drop a write silently and break "record i answers write i".
      delete sample.seq;
      offsets.push(offset);
      this.want++;
      if (!this.predictor.write(sample)) await once(this.predictor, 'drain');
    }
    if (this.collected.length < this.want && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    if (this.failure) throw this.failure;
    for (let i = 0; i < this.collected.length; i++) {
      const record = this.collected[i];
      if ('error' in record) {
        result.rejected.push({ code: record.error.code, message: record.error.message, partition: this.partition, offset: offsets[i] });
        continue;
      }
      const { actual: _actual, ...forecast } = record;
      result.out.push({ ...forecast, partition: this.partition, offset: offsets[i] });
    }
    this.collected = [];
    return result;
  }

  /** Save every series' state with nextOffset. Resolves with the time it took (ms). */
  async checkpoint(): Promise<number> {
    const t0 = performance.now();
    const state = await this.predictor.exportState();
    await this.store.save(PartitionTask.checkpointName(this.topic, this.partition), { nextOffset: this.nextOffset, state });
    this.lastCheckpointAt = Date.now();
    this.checkpointOffset = this.nextOffset;
    return performance.now() - t0;
  }

  liveSeries(): number {
    return this.predictor.stats().liveSeries;
  }

  async close(): Promise<void> {
    this.closed = true;
    const finished = once(this.predictor, 'close').catch(() => undefined);
    this.predictor.end();
    this.predictor.resume();
    await finished;
  }
}
