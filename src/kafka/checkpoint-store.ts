import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
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

/** One JSON file per name, written to a temporary file, fsynced, then renamed over the old one. */
export function fileCheckpointStore(dir: string): CheckpointStore {
  const file = (name: string): string => join(dir, `${name}.checkpoint.json`);
  let made: Promise<unknown> | null = null;
  return {
    async load(name) {
      try {
        return JSON.parse(await readFile(file(name), 'utf8')) as PartitionCheckpoint;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async save(name, checkpoint) {
      made ??= mkdir(dir, { recursive: true });
      await made;
      const tmp = `${file(name)}.${process.pid}.tmp`;
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(JSON.stringify(checkpoint));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file(name));
    },
  };
}
