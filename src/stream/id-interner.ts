/** Entries in the table: a power of two, and a few times the series a feed usually interleaves. */
const DEFAULT_ENTRIES = 1 << 14;

/**
 * Series ids read from input bytes, as strings, without making a new string for an id seen before.
 * A live feed repeats the same ids every tick; a new string per sample is garbage per sample and
 * costs its hash again when it is looked up in the series map (the same string object is found by
 * identity). The table is direct-mapped by an FNV-1a hash of the bytes: a collision only replaces
 * the entry, and a hit is confirmed byte by byte, so the answer is always the bytes' latin1 text.
 * With far more live ids than entries, cycling, most lookups miss: they then cost the hash (a few
 * ns per id byte) on top of the decode they would have made anyway.
 */
export class IdInterner {
  private readonly table: Array<string | undefined>;
  private readonly mask: number;

  constructor(entries = DEFAULT_ENTRIES) {
    if (!Number.isInteger(Math.log2(entries))) throw new RangeError(`IdInterner: entries must be a power of two (got ${entries})`);
    this.table = new Array<string | undefined>(entries).fill(undefined);
    this.mask = entries - 1;
  }

  /** data[start, end) decoded as latin1 (the scanner only passes ids of plain ASCII). */
  idOf(data: Buffer, start: number, end: number): string {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ data[i], 0x01000193);
    const k = h & this.mask;
    const known = this.table[k];
    if (known !== undefined && known.length === end - start && sameBytes(known, data, start)) return known;
    const id = data.toString('latin1', start, end);
    this.table[k] = id;
    return id;
  }
}

function sameBytes(text: string, data: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== data[start + i]) return false;
  return true;
}
