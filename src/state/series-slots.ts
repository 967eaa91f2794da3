/**
 * Series id → arena slot, with least-recently-used eviction when every slot is taken.
 * A Map keeps insertion order, so "touch" (delete + set) keeps the LRU series first: O(1) per sample.
 * Ids are Map keys, never object properties, so ids like "__proto__" are just ids.
 */
export class SeriesSlots {
  readonly capacity: number;
  private readonly bySeries = new Map<string, number>();
  private readonly free: number[];

  constructor(capacity: number) {
    this.capacity = capacity;
    // Pop from the end: slot 0 is handed out first, which keeps small runs' states together.
    this.free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
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
    if (slot !== undefined) {
      this.bySeries.delete(series);
      this.bySeries.set(series, slot);
    }
    return slot;
  }

  /** The least recently used series, the eviction candidate. */
  oldest(): string | undefined {
    return this.bySeries.keys().next().value;
  }

  /** Give `series` a free slot; the caller checks `hasFree` (or evicts) first. */
  add(series: string): number {
    const slot = this.free.pop();
    if (slot === undefined) throw new Error('SeriesSlots.add with no free slot');
    this.bySeries.set(series, slot);
    return slot;
  }

  hasFree(): boolean {
    return this.free.length > 0;
  }

  /** Forget `series`; its slot becomes free. Returns the slot, or undefined if unknown. */
  remove(series: string): number | undefined {
    const slot = this.bySeries.get(series);
    if (slot === undefined) return undefined;
    this.bySeries.delete(series);
    this.free.push(slot);
    return slot;
  }

  /** Series from least to most recently used, with their slots. */
  entries(): IterableIterator<[string, number]> {
    return this.bySeries.entries();
  }
}
