/**
 * Series id → arena slot, with exact least-recently-used eviction when every slot is taken.
 *
 * The recency order is a doubly linked list threaded through slot-indexed Int32Arrays, so marking a
 * series used is a few typed-array writes. (Re-inserting into the Map on every sample, the obvious
 * way to keep LRU order, made each sample cost ~3 µs at a million live series: every delete leaves a
 * hole that V8 must compact by rehashing the whole table.) The Map changes only when a series
 * arrives or leaves. Ids are Map keys, never object properties, so ids like "__proto__" are just ids.
 *
 *   oldest ─► [slot] ⇄ [slot] ⇄ ... ⇄ [slot] ◄─ newest        (NONE ends both directions)
 */
const NONE = -1;

export class SeriesSlots {
  readonly capacity: number;
  private readonly bySeries = new Map<string, number>();
  private readonly idOf: Array<string | undefined>;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
  private readonly free: Int32Array;
  private freeCount: number;
  /**
   * Per slot: bumped when a series takes it and again when it leaves, so it is odd exactly while a
   * series holds the slot. A series handle carries the generation it was issued in, so a handle kept
   * past its series' eviction is recognised, never silently another series'; and an odd generation
   * that matches says the slot is live without reading its id (at a million live series that read
   * was a cache miss per sample).
   */
  readonly generation: Uint32Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.idOf = new Array<string | undefined>(capacity);
    this.prev = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity).fill(NONE);
    // A stack popped from the end: slot 0 is handed out first, which keeps small runs' states together.
    this.free = Int32Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
    this.freeCount = capacity;
    this.generation = new Uint32Array(capacity);
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
    this.generation[slot]++;
    this.append(slot);
    return slot;
  }

  /** Forget `series`; its slot becomes free. Returns the slot, or undefined if unknown. */
  remove(series: string): number | undefined {
    const slot = this.bySeries.get(series);
    if (slot === undefined) return undefined;
    this.bySeries.delete(series);
    this.idOf[slot] = undefined;
    this.generation[slot]++;
    this.unlink(slot);
    this.free[this.freeCount++] = slot;
    return slot;
  }

  /** Series from least to most recently used, with their slots. */
  *entries(): IterableIterator<[string, number]> {
    for (let slot = this.head; slot !== NONE; slot = this.next[slot]) yield [this.idOf[slot]!, slot];
  }

  private unlink(slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.prev[slot] = NONE;
    this.next[slot] = NONE;
  }

  private append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
  }
}
