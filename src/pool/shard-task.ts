/** The message a pool worker receives for one shard of a batch (structured-cloned, small). */
export interface ShardTask {
  /** Scratch/backup block index: distinct for shards that run at the same time. */
  thread: number;
  /** Published in CONTROL once the shard's states are backed up (unique per attempt, never 0). */
  seq: number;
  count: number;
  slots: Int32Array;
  /** [count][inputSize] normalised float32 inputs. */
  inputs: Float32Array;
  /** Test-only fault injection, see workers/gru-worker.ts. */
  fault?: 'exit-mid-batch';
}
