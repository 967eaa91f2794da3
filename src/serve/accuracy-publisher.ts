import type { Forecast } from '../stream/predictor.js';
import { AccuracyTracker } from './accuracy.js';
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

  private publish(): void {
    const { hub, metrics } = this;
    for (const series of this.dirty) {
      const snap = this.tracker.snapshot(series);
      if (!snap) continue;
      hub.publishAccuracy(series, JSON.stringify(snap));
      if (snap.maeModel !== null) metrics.mae.set({ series, predictor: 'model' }, snap.maeModel);
      if (snap.maePersistence !== null) metrics.mae.set({ series, predictor: 'persistence' }, snap.maePersistence);
      metrics.scoredSteps.set({ series }, snap.n);
    }
    this.dirty.clear();
  }
}
