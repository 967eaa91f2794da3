import { join } from 'node:path';
import { CheckpointStore as KeyedStore } from '../checkpoint/store.js';
import { ErrorCodes, StateError } from '../errors.js';
import type { StateSnapshot } from '../state/snapshot.js';

/** What one input partition's checkpoint holds: every series' state and the offset it reflects. */
export interface PartitionCheckpoint {
  /** The first input offset NOT applied to `state` (Kafka's "committed offset" convention). */
  nextOffset: number;
  state: StateSnapshot;
}

/** Where partition checkpoints live: a directory every instance of the group can read and write. */
export interface CheckpointStore {
  /** The newest checkpoint saved under `name`, or null when there is none. */
  load(name: string): Promise<PartitionCheckpoint | null>;
  /** Replace the checkpoint under `name`, atomically: a reader sees the old one or the new one. */
  save(name: string, checkpoint: PartitionCheckpoint): Promise<void>;
}

/**
 * Partition checkpoints on the checkpoint layer (src/checkpoint/store.ts), one key per partition:
 * versioned, SHA-256-checked files stamped with the model's fingerprint (another model's state is
 * refused with ERR_CHECKPOINT_MODEL), the previous good one kept as a fallback for a torn newest.
 *
 * Every instance of the group writes here, so a partition's store is opened afresh by load(), which
 * an instance calls when the partition is assigned to it: its generation numbering then continues
 * from whatever the previous owner wrote. Saves while the partition stays assigned go to that store.
 */
export function fileCheckpointStore(dir: string, fingerprint: string, log: (line: string) => void = () => {}): CheckpointStore {
  const open = new Map<string, KeyedStore>();
  const fresh = async (name: string): Promise<KeyedStore> => {
    const store = await KeyedStore.open({ dir, key: name, fingerprint });
    open.set(name, store);
    return store;
  };
  return {
    async load(name) {
      const found = await (await fresh(name)).read();
      if (!found) return null;
      for (const s of found.skipped) log(`gru-stream: kafka: warning: checkpoint ${s.file} skipped (${s.reason}); falling back to ${found.file}`);
      return decodePartition(found.payload, join(dir, found.file));
    },
    async save(name, checkpoint) {
      const store = open.get(name) ?? (await fresh(name));
      await store.write(Buffer.from(JSON.stringify(checkpoint)));
    },
  };
}

function decodePartition(payload: Buffer, file: string): PartitionCheckpoint {
  const c = JSON.parse(payload.toString('utf8')) as Partial<PartitionCheckpoint> | null;
  if (!c || typeof c !== 'object' || !Number.isSafeInteger(c.nextOffset) || (c.nextOffset as number) < 0 || typeof c.state !== 'object' || c.state === null) {
    throw new StateError(ErrorCodes.ERR_STATE_FORMAT, `${file} is not a partition checkpoint (nextOffset and state)`, { path: file });
  }
  return c as PartitionCheckpoint;
}
