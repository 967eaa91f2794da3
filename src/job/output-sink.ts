import { EventEmitter, once } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { CheckpointError, ErrorCodes, OutputError } from '../errors.js';

/**
 * Where a predict job's NDJSON lines go. Text is gathered and written once per event-loop turn
 * (or per 64 KiB), like createNdjsonWriter, because one write per record was predict's largest
 * cost when profiled.
 */
export interface OutputSink {
  /** Queue text (or its UTF-8 bytes); false when the caller should wait for drained() before appending more. */
  append(text: string | Uint8Array): boolean;
  drained(): Promise<void>;
  /** Resolves when everything appended so far was handed to the OS (file) or the stream. */
  flush(): Promise<void>;
  /** Makes what flush() wrote durable (fdatasync; nothing for streams). Appends may go on meanwhile. */
  sync(): Promise<void>;
  /** Bytes written and flushed so far, plus those queued (file sinks: the file's length after flush()). */
  readonly length: number;
  /** Set when the destination failed (e.g. EPIPE on a closed stdout); appends are then dropped. */
  readonly error: NodeJS.ErrnoException | null;
  close(): Promise<void>;
}

const CHUNK_CHARS = 64 * 1024;
const HIGH_WATER = 1 << 20;

function outputError(path: string, err: unknown): OutputError {
  const e = err as NodeJS.ErrnoException;
  return new OutputError(`--output ${path}: cannot write (${e.code ?? e.message})`, { path });
}

const toBuffer = (part: string | Uint8Array): Uint8Array => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part);

/** b starts in the same memory right where a ends. */
const adjacent = (a: string | Uint8Array | undefined, b: Uint8Array): a is Uint8Array =>
  a !== undefined && typeof a !== 'string' && a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset;

/**
 * Text and bytes gathered for one write: `write` runs once the parts reach CHUNK_CHARS, else at the
 * end of the event-loop turn. Both sinks gather this way; they differ only in how they write.
 */
class Gathered {
  private parts: Array<string | Uint8Array> = [];
  /** Characters of text plus bytes, gathered and not yet taken. */
  size = 0;
  private scheduled = false;

  constructor(private readonly write: () => void) {}

  add(part: string | Uint8Array): void {
    const last = this.parts[this.parts.length - 1];
    if (typeof part !== 'string' && adjacent(last, part)) {
      // The formatter prints rounds one after another into one buffer: one view of both is one write, no copy.
      this.parts[this.parts.length - 1] = new Uint8Array(part.buffer, last.byteOffset, last.length + part.length);
    } else this.parts.push(part);
    this.size += part.length;
    if (this.size >= CHUNK_CHARS) this.write();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.write();
      });
    }
  }

  /** Everything gathered, as one byte array (empty afterwards). */
  take(): Uint8Array {
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    return parts.length === 1 ? toBuffer(parts[0]) : Buffer.concat(parts.map(toBuffer));
  }
}

/** A file written at explicit offsets, so its length is exactly what was flushed: a checkpoint's committed length. */
export class FileSink implements OutputSink {
  private readonly pending = new Gathered(() => this.kick());
  private inFlight = 0;
  private writing: Promise<void> | null = null;
  private position: number;
  private waiters: Array<() => void> = [];
  error: NodeJS.ErrnoException | null = null;

  private constructor(private readonly fh: FileHandle, private readonly path: string, length: number) {
    this.position = length;
  }

  /**
   * Opens `path` for a run: `keep` null starts it empty; a number keeps that many bytes (the
   * committed length of a checkpoint) and drops the rest, which a crashed run wrote after it.
   */
  static async open(path: string, keep: number | null): Promise<FileSink> {
    let fh: FileHandle;
    try {
      fh = await open(path, keep === null ? 'w' : 'r+');
    } catch (err) {
      throw outputError(path, err);
    }
    if (keep !== null) {
      const size = (await fh.stat()).size;
      if (size < keep) {
        await fh.close();
        throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_MISMATCH, `--output ${path} has ${size} bytes, fewer than the ${keep} the checkpoint committed: it was changed since; remove the state directory to start over`, { path });
      }
      await fh.truncate(keep);
    }
    return new FileSink(fh, path, keep ?? 0);
  }

  get length(): number {
    return this.position;
  }

  append(text: string | Uint8Array): boolean {
    this.pending.add(text);
    return this.pending.size + this.inFlight < HIGH_WATER;
  }

  drained(): Promise<void> {
    if (this.pending.size + this.inFlight < HIGH_WATER / 2 || this.error) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private kick(): void {
    if (this.writing || this.pending.size === 0 || this.error) return;
    this.inFlight = this.pending.size;
    const bytes = this.pending.take();
    this.writing = this.writeAll(bytes).then(
      () => {
        this.writing = null;
        this.inFlight = 0;
        this.wake();
        this.kick();
      },
      (err: NodeJS.ErrnoException) => {
        this.writing = null;
        this.error = err;
        this.wake();
      },
    );
  }

  private async writeAll(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, this.position);
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }

  private wake(): void {
    if (this.pending.size + this.inFlight >= HIGH_WATER / 2 && !this.error) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  async flush(): Promise<void> {
    for (;;) {
      this.kick();
      if (this.writing) await this.writing;
      else break;
    }
    if (this.error) throw outputError(this.path, this.error);
  }

  async sync(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (err) {
      throw outputError(this.path, err);
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A stream (stdout): no length to commit; a destination error (EPIPE from `| head`) stops the job quietly. */
export class StreamSink implements OutputSink {
  private readonly pending = new Gathered(() => this.push());
  private blocked = false;
  private readonly events = new EventEmitter();
  length = 0;
  error: NodeJS.ErrnoException | null = null;

  constructor(private readonly stream: Writable) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.error ??= err;
      this.events.emit('ready');
    });
    stream.on('drain', () => {
      this.blocked = false;
      this.events.emit('ready');
    });
  }

  append(text: string | Uint8Array): boolean {
    if (this.error) return true;
    this.pending.add(text);
    return !this.blocked;
  }

  private push(): void {
    if (this.pending.size === 0 || this.error) return;
    const bytes = this.pending.take();
    this.length += bytes.length;
    if (!this.stream.write(bytes)) this.blocked = true;
  }

  async drained(): Promise<void> {
    if (this.blocked && !this.error) await once(this.events, 'ready');
  }

  async flush(): Promise<void> {
    this.push();
    await this.drained();
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}
