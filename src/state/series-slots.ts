/**
 * Series id → arena slot, with exact least-recently-used eviction when every slot is taken.
 *
 * The recency order is a doubly linked list threaded through one slot-indexed Int32Array, so marking a
 * series used is a few typed-array writes. A slot's record is three ints side by side, [prev, next,
 * generation]: a handle's check and its touch read one cache line (now and then two) where three
 * separate arrays cost three misses per sample at a million live series, whose slots of a tick lie
 * anywhere in 12 MB of records. (Re-inserting into the Map on every sample, the obvious
 * way to keep LRU order, made each sample cost ~3 µs at a million live series: every delete leaves a
 * hole that V8 must compact by rehashing the whole table.) The Map changes only when a series
 * arrives or leaves. Ids are Map keys, never object properties, so ids like "__proto__" are just ids.
 *
 *   oldest ─► [slot] ⇄ [slot] ⇄ ... ⇄ [slot] ◄─ newest        (NONE ends both directions)
 */
const NONE = -1;
/** Ints per slot record, and where each field sits in it. */
const REC = 3;
const PREV = 0;
const NEXT = 1;
const GEN = 2;

export class SeriesSlots {
  readonly capacity: number;
  private readonly bySeries = new Map<string, number>();
  private readonly idOf: Array<string | undefined>;
  private readonly rec: Int32Array;
  private head = NONE;
  private tail = NONE;
  private readonly free: Int32Array;
  private freeCount: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.idOf = new Array<string | undefined>(capacity);
    this.rec = new Int32Array(REC * capacity);
    for (let slot = 0; slot < capacity; slot++) this.rec[REC * slot + PREV] = this.rec[REC * slot + NEXT] = NONE;
    // A stack popped from the end: slot 0 is handed out first, which keeps small runs' states together.
    this.free = Int32Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
    this.freeCount = capacity;
  }

  /**
   * Slot `slot`'s generation: bumped when a series takes the slot and again when it leaves, so it is
   * odd exactly while a series holds it. A series handle carries the generation it was issued in, so
   * a handle kept past its series' eviction is recognised, never silently another series'; and an odd
   * generation that matches says the slot is live without reading its id. Unsigned 32-bit (stored
   * in an Int32Array, read back with >>> 0).
   */
  generationOf(slot: number): number {
    return this.rec[REC * slot + GEN] >>> 0;
  }

  /** The series in `slot`, or undefined when the slot is free. */
  idAt(slot: number): string | undefined {
    return this.idOf[slot];
  }

  /** Mark the series in `slot` most recently used (the caller knows the slot is taken). */
  touchSlot(slot: number): void {
    if (slot !== this.tail) {
      this.unlink(slot);
      this.append(slot);
    }
  }

  get size(): number {
    return this.bySeries.size;
  }

  get(series: string): number | undefined {
    return this.bySeries.get(series);
  }

  /** Mark `series` most recently used; returns its slot or undefined. */
  touch(series: string): number | undefined {
    const slot = this.bySeries.get(series);
    if (slot !== undefined && slot !== this.tail) {
      this.unlink(slot);
      this.append(slot);
    }
    return slot;
  }

  /** The least recently used series, the eviction candidate. */
  oldest(): string | undefined {
    return this.head === NONE ? undefined : this.idOf[this.head];
  }

  hasFree(): boolean {
    return this.freeCount > 0;
  }

  /** Give `series` a free slot as the most recently used; the caller checks `hasFree` (or evicts) first. */
  add(series: string): number {
    if (this.freeCount === 0) throw new Error('SeriesSlots.add with no free slot');
    const slot = this.free[--this.freeCount];
    this.bySeries.set(series, slot);
    this.idOf[slot] = series;
    this.rec[REC * slot + GEN]++;
    this.append(slot);
    return slot;
  }

  /** Forget `series`; its slot becomes free. Returns the slot, or undefined if unknown. */
  remove(series: string): number | undefined {
    const slot = this.bySeries.get(series);
    if (slot === undefined) return undefined;
    this.bySeries.delete(series);
    this.idOf[slot] = undefined;
    this.rec[REC * slot + GEN]++;
    this.unlink(slot);
    this.free[this.freeCount++] = slot;
    return slot;
  }

  /** Series from least to most recently used, with their slots. */
  *entries(): IterableIterator<[string, number]> {
    for (let slot = this.head; slot !== NONE; slot = this.rec[REC * slot + NEXT]) yield [this.idOf[slot]!, slot];
  }

  private unlink(slot: number): void {
    const rec = this.rec;
    const p = rec[REC * slot + PREV];
    const n = rec[REC * slot + NEXT];
    if (p === NONE) this.head = n;
    else rec[REC * p + NEXT] = n;
    if (n === NONE) this.tail = p;
    else rec[REC * n + PREV] = p;
    rec[REC * slot + PREV] = NONE;
    rec[REC * slot + NEXT] = NONE;
  }

  private append(slot: number): void {
    const rec = this.rec;
    rec[REC * slot + PREV] = this.tail;
    rec[REC * slot + NEXT] = NONE;
    if (this.tail === NONE) this.head = slot;
    else rec[REC * this.tail + NEXT] = slot;
    this.tail = slot;
  }
}
