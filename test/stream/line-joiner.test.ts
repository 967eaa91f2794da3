// The NDJSON reader's joins of a cut line to the next chunk: right bytes, never written over a
// buffer still being read, and no new buffer per chunk once the ring is full.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineJoiner } from '../../src/stream/line-joiner.js';

describe('LineJoiner', () => {
  it('joins into a buffer that is none of the live ones, and leaves the live ones intact', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 })), { minLength: 1, maxLength: 40 }), (joins) => {
        const joiner = new LineJoiner();
        // As the reader holds them: its pending input and the last two rounds' bytes.
        let live: Buffer[] = [];
        let copies: Buffer[] = [];
        for (const [partial, chunk] of joins) {
          const joined = joiner.join(Buffer.from(partial), Buffer.from(chunk), live);
          expect(joined.equals(Buffer.concat([partial, chunk]))).toBe(true);
          for (const b of live) expect(joined.buffer).not.toBe(b.buffer);
          for (const [i, b] of live.entries()) expect(b.equals(copies[i])).toBe(true);
          live = [joined, ...live].slice(0, 3);
          copies = live.map((b) => Buffer.from(b));
        }
      }),
    );
  });

  it('reuses its buffers: four of them serve any number of joins', () => {
    const joiner = new LineJoiner();
    const seen = new Set<ArrayBufferLike>();
    let live: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      const joined = joiner.join(Buffer.from('{"series":"a",'), Buffer.alloc(64 * 1024, 0x20), live);
      seen.add(joined.buffer);
      live = [joined, ...live].slice(0, 3);
    }
    expect(seen.size).toBe(4);
  });

  it('gives a join larger than its buffers a buffer of its own', () => {
    const joiner = new LineJoiner();
    const chunk = Buffer.alloc(1024 * 1024, 0x31);
    const joined = joiner.join(Buffer.from('[1,'), chunk, []);
    expect(joined.length).toBe(chunk.length + 3);
    expect(joined.subarray(0, 4).toString()).toBe('[1,1');
    expect(joiner.join(Buffer.from('x'), Buffer.from('y'), []).buffer).not.toBe(joined.buffer);
  });
});
