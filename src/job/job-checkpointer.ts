import type { CheckpointStore } from '../checkpoint/store.js';
import type { Predictor } from '../stream/predictor.js';
import { type JobCounters, type JobIdentity, encodeJobCheckpoint } from './job-checkpoint.js';
import type { LineOffsets } from '../stream/line-offsets.js';
import type { OutputSink } from './output-sink.js';

/** A resume point: the byte and number of the first input line not applied (null: a stream, no position). */
export type InputPosition = { offset: number; line: number } | null;

export interface JobCheckpointerOptions {
  store: CheckpointStore;
  predictor: Predictor;
  sink: OutputSink;
  run: JobIdentity;
  /** Whether the output is a file (its committed length goes into the checkpoint). */
  outputFile: boolean;
  offsets: LineOffsets | null;
  counters: () => JobCounters;
  intervalMs: number;
}

/**
 * When and how a predict job checkpoints. A checkpoint is a consistent cut between two input
 * items: the loop stops feeding, `settle` brings every fed sample's records into the sink, the sink
 * is flushed, and the state, the input position and the output's length are captured; then, in
 * the background while processing goes on, the output is fsynced and only after that the
 * checkpoint written atomically (bytes appended later lie beyond the committed length, which a
 * resumed run truncates away). A crash before the checkpoint's rename leaves the previous one in
 * force. At most one checkpoint is made durable at a time.
 */
export class JobCheckpointer {
  /** Set by the timer: the loop should cut before its next item. */
  due = false;
  count = 0;
  /** A failure to make a checkpoint durable (the job must stop). */
  error: Error | null = null;
  private persisting: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: JobCheckpointerOptions) {
    this.timer = setInterval(() => (this.due = true), o.intervalMs);
    this.timer.unref();
  }

  /**
   * Cut at `position`. Without `wait` a cut is skipped while the last one is still being made
   * durable (it stays due); with it, this waits for that one and for its own. `settle` resolves
   * true once every fed sample's record is in the sink, false when the job failed meanwhile.
   */
  async cut(position: InputPosition, wait: boolean, settle: () => Promise<boolean>): Promise<void> {
    if (this.persisting && !wait) return;
    if (this.persisting) await this.persisting;
    this.due = false;
    if (!(await settle()) || this.error) return;
    const { sink, predictor, offsets } = this.o;
    await sink.flush();
    const payload = encodeJobCheckpoint({
      run: this.o.run,
      input: position,
      output: this.o.outputFile ? { length: sink.length } : null,
      counters: this.o.counters(),
      snapshot: await predictor.exportState(),
    });
    if (position) offsets?.release(position.line);
    this.persisting = (async () => {
      await sink.sync();
      await this.o.store.write(payload);
      this.count++;
    })().then(
      () => void (this.persisting = null),
      (err: Error) => {
        this.persisting = null;
        this.error ??= err;
      },
    );
    if (wait) await this.persisting;
  }

  /** Stops the timer and waits for a checkpoint still being made durable. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.persisting;
  }
}
