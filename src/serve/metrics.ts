import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one server. Each server owns its Registry (never prom-client's global
 * one), so two servers in one process, or a test's servers, never share or double-register.
 * Names are listed in docs/serving.md; keep the two in step.
 */
export interface ServeMetricsSources {
  liveSeries: () => number;
  subscribers: () => number;
}

export type SampleSource = 'ingest' | 'input' | 'replay' | 'mqtt';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly samplesIn: Counter<'source'>;
  readonly forecastsOut: Counter;
  readonly rejected: Counter<'code'>;
  readonly dropped: Counter;
  readonly slowCloses: Counter;
  readonly evictions: Counter;
  readonly connections: Counter<'endpoint'>;
  readonly authFailures: Counter<'endpoint'>;
  readonly wsErrors: Counter<'endpoint'>;
  readonly stepLatency: Histogram;
  readonly batchSize: Histogram;
  readonly mae: Gauge<'series' | 'predictor'>;
  readonly scoredSteps: Gauge<'series'>;

  constructor(sources: ServeMetricsSources) {
    const registers = [this.registry];
    this.samplesIn = new Counter({ name: 'gru_stream_samples_in_total', help: 'Samples handed to the predictor, by where they came from.', labelNames: ['source'], registers });
    this.forecastsOut = new Counter({ name: 'gru_stream_forecasts_out_total', help: 'Forecast records produced by the predictor and published to subscribers.', registers });
    this.rejected = new Counter({ name: 'gru_stream_rejected_samples_total', help: 'Samples or input lines rejected (unparsable, wrong shape, non-finite, unknown series), by error code.', labelNames: ['code'], registers });
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
    new Gauge({ name: 'gru_stream_live_series', help: 'Series whose state the predictor currently holds.', registers, collect() { this.set(sources.liveSeries()); } });
    new Gauge({ name: 'gru_stream_subscribers', help: 'Connected /forecasts subscribers.', registers, collect() { this.set(sources.subscribers()); } });
  }

  /** Drops a series' per-series gauges, so label cardinality follows the predictor's live set. */
  forgetSeries(series: string): void {
    this.mae.remove({ series, predictor: 'model' });
    this.mae.remove({ series, predictor: 'persistence' });
    this.scoredSteps.remove({ series });
  }
}
