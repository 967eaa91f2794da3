import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../checkpoint/atomic-write.js';
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
 * One JSON file per name, replaced by the checkpoint layer's atomic write (temp file, fsync, rename,
 * fsync of the directory). The temp file carries the pid: every instance of the group writes here.
 */
export function fileCheckpointStore(dir: string): CheckpointStore {
  const file = (name: string): string => `${name}.checkpoint.json`;
  let made: Promise<unknown> | null = null;
  return {
    async load(name) {
      try {
        return JSON.parse(await readFile(join(dir, file(name)), 'utf8')) as PartitionCheckpoint;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async save(name, checkpoint) {
      made ??= mkdir(dir, { recursive: true });
      await made;
      await writeFileAtomic(dir, file(name), Buffer.from(JSON.stringify(checkpoint)), `${file(name)}.${process.pid}.tmp`);
    },
  };
}
