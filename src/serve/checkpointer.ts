import { modelFingerprint } from '../checkpoint/fingerprint.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { CheckpointError, ErrorCodes } from '../errors.js';
import type { StateSnapshot } from '../state/snapshot.js';
import type { LinePosition } from '../stream/resumable-input.js';
import type { InputProgress } from './input-progress.js';
import { ackDurable } from './ingest.js';
import type { ServePipeline } from './pipeline.js';

/**
 * `serve --state-dir`: the predictor's state is restored before the first sample and checkpointed
 * every interval and at shutdown (key "serve"); each /ingest connection then hears
 * {"type":"durable","upTo":N} for the messages the checkpoint holds.
 *
 * The cut: the gate holds every source (sockets paused, feeders waiting), the predictor settles and
 * its state is copied, and in the same microtask each session's `applied` is read. `applied` only
 * moves when a message's Marker comes out of the predictor, after all its samples, so the copy
 * holds exactly the messages counted, however many writes were still buffered. Then the gate opens
 * and the file is written while serving goes on; the durable acks go out once it is on disk.
 * A file given to --input is cut the same way: its position (InputProgress, moved by the markers
 * after its samples) is read with the acks, and a restart reads the file on from there.
 */
interface ServeCheckpoint {
  kind: 'gru-stream-serve';
  version: 1;
  snapshot: StateSnapshot;
  /** With --input FILE: the first line of the file not in `snapshot` (absent in older checkpoints). */
  input?: InputCheckpoint;
}

/** Where a file given to --input stands in a checkpoint. */
export interface InputCheckpoint extends LinePosition {
  /** The file's absolute path. */
  path: string;
}

export class ServeCheckpointer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** The --input file's progress, checkpointed with the state (set by track()). */
  private progress: InputProgress | null = null;

  private constructor(
    private readonly store: CheckpointStore,
    private readonly pipeline: ServePipeline,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    /** The restored checkpoint's --input position, if it had one. */
    readonly restoredInput: InputCheckpoint | null,
  ) {}

  /** Checkpoint the --input file's position with the state from now on. */
  track(progress: InputProgress): void {
    this.progress = progress;
  }

  /** Opens the store and restores the newest good checkpoint into the (still idle) predictor. */
  static async open(dir: string, pipeline: ServePipeline, intervalMs: number, log: (line: string) => void): Promise<ServeCheckpointer> {
    const store = await CheckpointStore.open({ dir, key: 'serve', fingerprint: modelFingerprint(pipeline.model) });
    const found = await store.read();
    for (const s of found?.skipped ?? []) log(`gru-stream: warning: checkpoint ${s.file} skipped (${s.reason}); falling back to ${found!.file}`);
    let input: InputCheckpoint | null = null;
    if (found) {
      let c: ServeCheckpoint;
      try {
        c = JSON.parse(found.payload.toString('utf8')) as ServeCheckpoint;
      } catch {
        throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_CORRUPT, `${found.file}: the payload is not JSON`);
      }
      if (c?.kind !== 'gru-stream-serve' || c.version !== 1) throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_MISMATCH, `${found.file} is not a serve checkpoint (version 1)`);
      await pipeline.predictor.importState(c.snapshot);
      input = c.input ?? null;
      log(`gru-stream: resumed from checkpoint ${found.file} (${found.writtenAt}): ${c.snapshot.series.length} series${input ? `, --input ${input.path} from line ${input.line}` : ''}`);
    }
    return new ServeCheckpointer(store, pipeline, intervalMs, log, input);
  }

  start(): void {
    this.timer = setInterval(() => void this.checkpoint(), this.intervalMs);
    this.timer.unref();
  }

  /** One checkpoint (or the one already running). Failures are logged; serving goes on. */
  checkpoint(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.cut()
      .catch((err: Error) => this.log(`gru-stream: checkpoint failed: ${err.message}`))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async cut(): Promise<void> {
    const { gate, predictor, ingestSessions } = this.pipeline;
    let snapshot: StateSnapshot;
    let acks: Array<[(typeof ingestSessions extends Set<infer S> ? S : never), number]>;
    let input: InputCheckpoint | undefined;
    const progress = this.progress;
    gate.hold();
    try {
      snapshot = await predictor.exportState();
      acks = [...ingestSessions].map((s) => [s, s.applied]);
      if (progress) input = { path: progress.path, ...progress.position() };
    } finally {
      gate.release();
    }
    const payload: ServeCheckpoint = { kind: 'gru-stream-serve', version: 1, snapshot, ...(input ? { input } : {}) };
    await this.store.write(Buffer.from(JSON.stringify(payload), 'utf8'));
    if (progress && input) progress.release(input);
    for (const [session, upTo] of acks) ackDurable(session, upTo);
  }

  /** At shutdown, after the sources stopped: the last checkpoint, so a restart loses nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    if (!this.pipeline.predictor.destroyed) await this.checkpoint();
  }
}
