// The id table of the NDJSON row path: always the bytes' own text, and one string object per id
// while the id stays in its entry.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { IdInterner } from '../../src/stream/id-interner.js';

describe('IdInterner', () => {
  it('answers the latin1 text of any bytes, whatever was asked before (tiny table: collisions on every call)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: 60 }), (ids) => {
        const interner = new IdInterner(2);
        for (const bytes of [...ids, ...ids.reverse()]) {
          // Padded on both sides, so start and end are honoured.
          const data = Buffer.concat([Buffer.from('{"'), bytes, Buffer.from('"}')]);
          expect(interner.idOf(data, 2, 2 + bytes.length)).toBe(Buffer.from(bytes).toString('latin1'));
        }
      }),
    );
  });

  it('decodes an id once while it stays in its entry (no new string per sample)', () => {
    const interner = new IdInterner();
    const line = (id: string): Buffer => Buffer.from(`{"series":"${id}","value":1}`);
    const decode = vi.spyOn(Buffer.prototype, 'toString');
    try {
      for (let tick = 0; tick < 5; tick++) {
        for (const id of ['sensor-7', 'sensor-8', 'sensor-9']) expect(interner.idOf(line(id), 11, 19)).toBe(id);
      }
      expect(decode).toHaveBeenCalledTimes(3);
    } finally {
      decode.mockRestore();
    }
  });

  it('refuses a table size that is not a power of two', () => {
    expect(() => new IdInterner(1000)).toThrow(RangeError);
  });
});
