/**
 * Forecast records received from a broker (Kafka output topic, MQTT publish topic), checked against
 * the reference as they arrive: `expected` maps "series|t" to the JSON of predict's forecast.
 * Tests wait with `until(n)` for n distinct (series, t), woken by each record, never by a timer.
 */
export class ForecastTally {
  /** Records per "series|t" (more than one = an at-least-once duplicate). */
  readonly seen = new Map<string, number>();
  readonly mismatches: string[] = [];
  received = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly expected: ReadonlyMap<string, string>) {}

  /** Record one forecast; `where` (a topic, a key) is checked by the caller and named in mismatches. */
  add(record: { series: string; t: number | string; forecast: unknown }, whereOk = true, where = ''): void {
    const k = `${record.series}|${record.t}`;
    this.received++;
    const want = this.expected.get(k);
    if (!whereOk || want !== JSON.stringify(record.forecast)) this.mismatches.push(`${where} ${k}: ${JSON.stringify(record.forecast)} != ${want}`);
    this.seen.set(k, (this.seen.get(k) ?? 0) + 1);
    for (const w of [...this.waiters]) w();
  }

  get duplicates(): number {
    return this.received - this.seen.size;
  }

  /** Resolves once `n` distinct (series, t) have been seen. */
  until(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.seen.size >= n) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
      check();
    });
  }
}
