/**
 * The last N serialized forecast messages of each series, so a subscriber that connects (or
 * subscribes) mid-stream can draw a chart at once instead of waiting for N new samples.
 * Bounded twice: `perSeries` messages per series and `maxSeries` series, the least recently
 * updated series dropped first (Map order = order of last update).
 */
export class SeriesHistory {
  private readonly rings = new Map<string, { items: string[]; next: number }>();

  constructor(private readonly perSeries: number, private readonly maxSeries: number) {}

  push(series: string, json: string): void {
    let ring = this.rings.get(series);
    if (ring) {
      // Re-inserting keeps the Map ordered by recency, which is what the eviction below relies on.
      this.rings.delete(series);
    } else {
      ring = { items: [], next: 0 };
      if (this.rings.size >= this.maxSeries) this.rings.delete(this.rings.keys().next().value as string);
    }
    this.rings.set(series, ring);
    if (ring.items.length < this.perSeries) ring.items.push(json);
    else ring.items[ring.next] = json;
    ring.next = (ring.next + 1) % this.perSeries;
  }

  delete(series: string): void {
    this.rings.delete(series);
  }

  series(): IterableIterator<string> {
    return this.rings.keys();
  }

  /**
   * One `history` message holding the series' forecast messages oldest first. Built by string
   * concatenation of the already-serialized messages: nothing is parsed or stringified again.
   */
  message(series: string): string | undefined {
    const ring = this.rings.get(series);
    if (!ring || ring.items.length === 0) return undefined;
    const ordered = ring.items.length < this.perSeries ? ring.items : [...ring.items.slice(ring.next), ...ring.items.slice(0, ring.next)];
    return `{"type":"history","series":${JSON.stringify(series)},"forecasts":[${ordered.join(',')}]}`;
  }
}
