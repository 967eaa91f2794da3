import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, ErrorCodes } from '../errors.js';
import { fsyncDir, writeFileAtomic } from './atomic-write.js';
import { decodeCheckpoint, encodeCheckpoint } from './format.js';

/**
 * Checkpoints of one stateful thing (a predict run, a serve process, a Kafka partition) under a
 * key in a state directory; several keys share a directory without touching each other's files.
 *
 *   DIR/KEY.000000000007.ckpt   newest   ┐ kept: the newest write and the previous good one,
 *   DIR/KEY.000000000006.ckpt   previous ┘ so a torn or corrupt newest still leaves a fallback
 *
 * A write goes to a new generation's file atomically (writeFileAtomic), then deletes the key's
 * files other than it and the previous good one. read() returns the newest intact checkpoint,
 * listing each newer file it had to skip and why.
 */
export interface CheckpointStoreOptions {
  dir: string;
  /** [A-Za-z0-9][A-Za-z0-9._-]{0,127}: a file-name-safe id, e.g. "predict" or "orders-3". */
  key: string;
  /** What the payload is only valid with (modelFingerprint(model)); another one is refused on read. */
  fingerprint: string;
}

export interface SkippedCheckpoint {
  file: string;
  reason: string;
}

export interface LoadedCheckpoint {
  generation: number;
  writtenAt: string;
  file: string;
  payload: Buffer;
  /** Newer files under the key that were torn or corrupt (the caller should say so). */
  skipped: SkippedCheckpoint[];
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const GEN_DIGITS = 12;

function ioError(what: string, err: unknown, dir: string): CheckpointError {
  const e = err as NodeJS.ErrnoException;
  return new CheckpointError(ErrorCodes.ERR_CHECKPOINT_IO, `${what} in state directory ${dir}: ${e.code ?? e.message}`, { path: dir });
}

export class CheckpointStore {
  readonly dir: string;
  readonly key: string;
  readonly fingerprint: string;
  private readonly pattern: RegExp;
  private nextGeneration: number;
  /** The newest generation known intact (read back or written by us); kept beside the next write. */
  private lastGood: number | null = null;
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(options: CheckpointStoreOptions, nextGeneration: number) {
    this.dir = options.dir;
    this.key = options.key;
    this.fingerprint = options.fingerprint;
    this.pattern = CheckpointStore.patternFor(options.key);
    this.nextGeneration = nextGeneration;
  }

  private static patternFor(key: string): RegExp {
    return new RegExp(`^${key.replace(/[.]/g, '\\.')}\\.(\\d{${GEN_DIGITS}})\\.ckpt$`);
  }

  /** Creates the directory if needed and removes this key's leftover temp files. */
  static async open(options: CheckpointStoreOptions): Promise<CheckpointStore> {
    if (typeof options.key !== 'string' || !KEY.test(options.key)) {
      throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_IO, `checkpoint key must match ${KEY.source} (got ${JSON.stringify(options.key)})`, { key: options.key });
    }
    if (typeof options.dir !== 'string' || options.dir === '') throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_IO, 'the state directory must be a non-empty path');
    try {
      await mkdir(options.dir, { recursive: true });
    } catch (err) {
      throw ioError('cannot create the directory', err, options.dir);
    }
    const store = new CheckpointStore(options, 1);
    const names = await store.list();
    store.nextGeneration = (names[0]?.generation ?? 0) + 1;
    const tmp = new RegExp(`${CheckpointStore.patternFor(options.key).source.slice(0, -1)}\\.tmp$`);
    for (const name of await readdir(options.dir)) if (tmp.test(name)) await unlink(join(options.dir, name)).catch(() => undefined);
    return store;
  }

  /** This key's checkpoint files, newest first. */
  private async list(): Promise<Array<{ name: string; generation: number }>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      throw ioError('cannot list', err, this.dir);
    }
    const found: Array<{ name: string; generation: number }> = [];
    for (const name of names) {
      const m = this.pattern.exec(name);
      if (m) found.push({ name, generation: Number(m[1]) });
    }
    return found.sort((a, b) => b.generation - a.generation);
  }

  /**
   * The newest intact checkpoint, or null when the key has none. Rejects with
   * ERR_CHECKPOINT_MODEL when that checkpoint carries another fingerprint (an older one is not
   * tried: the directory belongs to another model), ERR_CHECKPOINT_CORRUPT when files exist but
   * none is intact.
   */
  async read(): Promise<LoadedCheckpoint | null> {
    const skipped: SkippedCheckpoint[] = [];
    for (const { name, generation } of await this.list()) {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(this.dir, name));
      } catch (err) {
        throw ioError(`cannot read ${name}`, err, this.dir);
      }
      const d = decodeCheckpoint(bytes);
      const reason = !d.ok ? d.reason : d.meta.key !== this.key || d.meta.generation !== generation ? `its header names ${d.meta.key} generation ${d.meta.generation}` : null;
      if (!d.ok || reason !== null) {
        skipped.push({ file: name, reason: reason ?? 'unreadable' });
        continue;
      }
      if (d.meta.fingerprint !== this.fingerprint) {
        throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_MODEL, `${join(this.dir, name)} was written for model ${d.meta.fingerprint}, this run uses ${this.fingerprint}; use another --state-dir or remove it`, { path: join(this.dir, name) });
      }
      this.lastGood = generation;
      return { generation, writtenAt: d.meta.writtenAt, file: name, payload: d.payload, skipped };
    }
    if (skipped.length > 0) {
      throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_CORRUPT, `no intact checkpoint for "${this.key}" in ${this.dir}: ${skipped.map((s) => `${s.file}: ${s.reason}`).join('; ')}`, { path: this.dir });
    }
    return null;
  }

  /** Durably writes the next generation; resolves to it. Writes run one at a time, in call order. */
  write(payload: Uint8Array): Promise<number> {
    const run = this.writing.then(() => this.writeNow(payload));
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async writeNow(payload: Uint8Array): Promise<number> {
    const generation = this.nextGeneration++;
    const name = `${this.key}.${String(generation).padStart(GEN_DIGITS, '0')}.ckpt`;
    const bytes = encodeCheckpoint({ key: this.key, generation, fingerprint: this.fingerprint, writtenAt: new Date().toISOString() }, payload);
    try {
      await writeFileAtomic(this.dir, name, bytes);
    } catch (err) {
      throw ioError(`cannot write ${name}`, err, this.dir);
    }
    const keep = this.lastGood;
    this.lastGood = generation;
    let removed = false;
    for (const old of await this.list()) {
      if (old.generation === generation || old.generation === keep) continue;
      await unlink(join(this.dir, old.name)).catch(() => undefined);
      removed = true;
    }
    if (removed) await fsyncDir(this.dir).catch(() => undefined);
    return generation;
  }
}
