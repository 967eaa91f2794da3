import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccuracySnapshot, OverallAccuracy } from './accuracy.js';

/**
 * Prometheus metrics of one server. Each server owns its Registry (never prom-client's global
 * one), so two servers in one process, or a test's servers, never share or double-register.
 * Names are listed in docs/serving.md; keep the two in step.
 */
export interface ServeMetricsSources {
  liveSeries: () => number;
  subscribers: () => number;
  /** Accuracy and interval calibration over every series, read at scrape time. */
  overall: () => OverallAccuracy;
  /** The predictor's interval levels (none without intervals): the `level` label values. */
  levels: readonly number[];
}

export type SampleSource = 'ingest' | 'input' | 'replay' | 'mqtt';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly samplesIn: Counter<'source'>;
  readonly forecastsOut: Counter;
  readonly rejected: Counter<'code'>;
  readonly dropped: Counter;
  readonly duplicates: Counter;
  readonly slowCloses: Counter;
  readonly evictions: Counter;
  readonly connections: Counter<'endpoint'>;
  readonly authFailures: Counter<'endpoint'>;
  readonly wsErrors: Counter<'endpoint'>;
  readonly stepLatency: Histogram;
  readonly batchSize: Histogram;
  readonly mae: Gauge<'series' | 'predictor'>;
  readonly scoredSteps: Gauge<'series'>;
  readonly coverage: Gauge<'series' | 'level'>;
  readonly width: Gauge<'series' | 'level'>;
  private readonly levels: readonly number[];

  constructor(sources: ServeMetricsSources) {
    const registers = [this.registry];
    this.samplesIn = new Counter({ name: 'gru_stream_samples_in_total', help: 'Samples handed to the predictor, by where they came from.', labelNames: ['source'], registers });
    this.forecastsOut = new Counter({ name: 'gru_stream_forecasts_out_total', help: 'Forecast records produced by the predictor and published to subscribers.', registers });
    this.rejected = new Counter({ name: 'gru_stream_rejected_samples_total', help: 'Samples or input lines rejected (unparsable, wrong shape, non-finite, unknown series), by error code.', labelNames: ['code'], registers });
    this.duplicates = new Counter({ name: 'gru_stream_duplicate_samples_total', help: 'Samples dropped because their seq was not above the last applied seq of their series.', registers });
    this.dropped = new Counter({ name: 'gru_stream_dropped_messages_total', help: 'Messages to slow subscribers superseded by a newer message for the same series before they could be sent.', registers });
    this.slowCloses = new Counter({ name: 'gru_stream_slow_subscriber_closes_total', help: 'Subscribers closed with code 4008 for staying behind too long.', registers });
    this.evictions = new Counter({ name: 'gru_stream_evictions_total', help: 'Series whose state the predictor evicted to stay within its capacity.', registers });
    this.connections = new Counter({ name: 'gru_stream_ws_connections_total', help: 'WebSocket connections accepted, by endpoint.', labelNames: ['endpoint'], registers });
    this.authFailures = new Counter({ name: 'gru_stream_auth_failures_total', help: 'WebSocket upgrades refused with HTTP 401, by endpoint.', labelNames: ['endpoint'], registers });
    this.wsErrors = new Counter({ name: 'gru_stream_ws_errors_total', help: 'WebSocket connections closed for a protocol error, invalid UTF-8 or an oversize message, by endpoint.', labelNames: ['endpoint'], registers });
    // Step latencies are sub-millisecond to tens of ms; the default buckets start at 5 ms.
    this.stepLatency = new Histogram({ name: 'gru_stream_step_latency_seconds', help: 'Wall time of one predictor micro-batch step.', buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers });
    this.batchSize = new Histogram({ name: 'gru_stream_batch_size', help: 'Samples per predictor micro-batch step.', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers });
    this.mae = new Gauge({ name: 'gru_stream_mae', help: 'Running one-step-ahead mean absolute error per series, original units; predictor="model" or "persistence".', labelNames: ['series', 'predictor'], registers });
    this.scoredSteps = new Gauge({ name: 'gru_stream_scored_steps', help: 'Steps scored in gru_stream_mae per series.', labelNames: ['series'], registers });
    this.coverage = new Gauge({ name: 'gru_stream_interval_coverage', help: 'Share of actuals inside the prediction interval made one step earlier, per series and level (steps with bounds).', labelNames: ['series', 'level'], registers });
    this.width = new Gauge({ name: 'gru_stream_interval_width', help: 'Mean width (upper - lower) of the one-step prediction intervals per series and level, original units.', labelNames: ['series', 'level'], registers });
    this.levels = sources.levels;
    new Gauge({
      name: 'gru_stream_mae_overall', help: 'One-step-ahead MAE over every scored step of every series, original units; predictor="model" or "persistence".', labelNames: ['predictor'], registers,
      collect() {
        const all = sources.overall();
        if (all.maeModel !== null) this.set({ predictor: 'model' }, all.maeModel);
        if (all.maePersistence !== null) this.set({ predictor: 'persistence' }, all.maePersistence);
      },
    });
    const overallLevels = (pick: (score: NonNullable<OverallAccuracy['intervals']>[number]) => number | null) => function (this: Gauge<'level'>): void {
      for (const score of sources.overall().intervals ?? []) {
        const v = pick(score);
        if (v !== null) this.set({ level: String(score.level) }, v);
      }
    };
    new Gauge({ name: 'gru_stream_interval_coverage_overall', help: 'Share of actuals inside the one-step prediction intervals over every series, per level.', labelNames: ['level'], registers, collect: overallLevels((s) => s.coverage) });
    new Gauge({ name: 'gru_stream_interval_width_overall', help: 'Mean width of the one-step prediction intervals over every series, per level, original units.', labelNames: ['level'], registers, collect: overallLevels((s) => s.meanWidth) });
    new Gauge({ name: 'gru_stream_live_series', help: 'Series whose state the predictor currently holds.', registers, collect() { this.set(sources.liveSeries()); } });
    new Gauge({ name: 'gru_stream_subscribers', help: 'Connected /forecasts subscribers.', registers, collect() { this.set(sources.subscribers()); } });
  }

  /** Sets a series' per-series gauges from its latest accuracy snapshot. */
  observeSeries(snap: AccuracySnapshot): void {
    const { series } = snap;
    if (snap.maeModel !== null) this.mae.set({ series, predictor: 'model' }, snap.maeModel);
    if (snap.maePersistence !== null) this.mae.set({ series, predictor: 'persistence' }, snap.maePersistence);
    this.scoredSteps.set({ series }, snap.n);
    for (const score of snap.intervals ?? []) {
      const level = String(score.level);
      if (score.coverage !== null) this.coverage.set({ series, level }, score.coverage);
      if (score.meanWidth !== null) this.width.set({ series, level }, score.meanWidth);
    }
  }

  /** Drops a series' per-series gauges, so label cardinality follows the predictor's live set. */
  forgetSeries(series: string): void {
    this.mae.remove({ series, predictor: 'model' });
    this.mae.remove({ series, predictor: 'persistence' });
    this.scoredSteps.remove({ series });
    for (const level of this.levels) {
      this.coverage.remove({ series, level: String(level) });
      this.width.remove({ series, level: String(level) });
    }
  }
}
