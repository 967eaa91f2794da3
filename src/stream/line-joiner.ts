/** Bytes per slab: a few of Node's 64 KiB stream chunks plus the line cut at the end of the last one. */
const SLAB_BYTES = 256 * 1024;
/** Slabs in the ring: the current input, the two rounds still being read from, and one to write. */
const SLABS = 4;

/**
 * Joins the unfinished line at the end of one input chunk to the next chunk, into a few reused
 * buffers instead of a new one per chunk. Nearly every chunk of a stream ends mid-line, so the
 * NDJSON reader joined one per chunk; a fresh buffer each time cost its allocation, its page faults
 * and GC pressure from external memory on top of the copy (measured on predict's NDJSON path,
 * issue 12: Buffer.concat and its page faults were about 5 % of the main thread).
 *
 * A slab is reused only when none of `live` (buffers still being read: the reader's pending input
 * and the rounds not yet printed) is a view of it. A join larger than a slab gets its own buffer.
 */
export class LineJoiner {
  private readonly slabs: Buffer[] = [];

  join(partial: Buffer, chunk: Buffer, live: readonly Buffer[]): Buffer {
    const size = partial.length + chunk.length;
    if (size > SLAB_BYTES) return Buffer.concat([partial, chunk], size);
    const slab = this.freeSlab(live);
    partial.copy(slab, 0);
    chunk.copy(slab, partial.length);
    return slab.subarray(0, size);
  }

  private freeSlab(live: readonly Buffer[]): Buffer {
    const free = this.slabs.find((slab) => live.every((b) => b.buffer !== slab.buffer));
    if (free) return free;
    // Only until the ring is full: with SLABS buffers, at most SLABS - 1 are ever live.
    const slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    if (this.slabs.length < SLABS) this.slabs.push(slab);
    return slab;
  }
}
