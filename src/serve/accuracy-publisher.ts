import type { Forecast } from '../stream/predictor.js';
import { type AccuracySnapshot, AccuracyTracker, type OverallAccuracy } from './accuracy.js';
import type { ServeMetrics } from './metrics.js';
import type { SubscriberHub } from './subscriber-hub.js';

/**
 * Scores every forecast as it arrives, but publishes accuracy at most once per interval per
 * series (the latest totals), so a fast series does not double the messages each subscriber gets.
 * The same tick refreshes the MAE gauges of /metrics.
 */
export class AccuracyPublisher {
  private readonly tracker = new AccuracyTracker();
  /** Series scored since the last tick. */
  private readonly dirty = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly hub: SubscriberHub,
    private readonly metrics: ServeMetrics,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.publish(), intervalMs);
    this.timer.unref();
  }

  observe(record: Forecast): void {
    if (this.tracker.observe(record)) this.dirty.add(record.series);
  }

  /** The series was evicted or reset: its totals start again from nothing. */
  forget(series: string): void {
    this.tracker.forget(series);
    this.dirty.delete(series);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  overall(): OverallAccuracy {
    return this.tracker.overall();
  }

  /** The latest snapshots of at most `limit` series (for /healthz). */
  snapshots(limit: number): AccuracySnapshot[] {
    const out: AccuracySnapshot[] = [];
    for (const series of this.tracker.series()) {
      if (out.length >= limit) break;
      out.push(this.tracker.snapshot(series)!);
    }
    return out;
  }

  private publish(): void {
    const { hub, metrics } = this;
    for (const series of this.dirty) {
      const snap = this.tracker.snapshot(series);
      if (!snap) continue;
      hub.publishAccuracy(series, JSON.stringify(snap));
      metrics.observeSeries(snap);
    }
    this.dirty.clear();
  }
}
