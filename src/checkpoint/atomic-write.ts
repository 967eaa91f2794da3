import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Replace-or-create `dir/name` so that after a crash at any moment the name holds either nothing
 * (or its old content) or all of `bytes`, never a prefix:
 *   write dir/name.tmp ─▶ fsync it ─▶ rename over name ─▶ fsync dir
 * rename(2) is atomic within a file system; the first fsync makes the data durable before the
 * name points at it, the directory fsync makes the rename itself durable (ext4/xfs need both).
 */
export async function writeFileAtomic(dir: string, name: string, bytes: Uint8Array, tmpName = `${name}.tmp`): Promise<void> {
  // tmpName: writers in several processes sharing `dir` (Kafka instances) each need their own.
  const tmp = join(dir, tmpName);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
}

/** Make directory entries (creations, renames, unlinks) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
