import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Read at scrape time from the running member. */
export interface KafkaMetricsSources {
  /** Per assigned partition: lag (high watermark - next offset) and the last checkpoint's time. */
  partitions: () => Array<{ partition: number; lag: number | null; lastCheckpointAt: number }>;
  liveSeries: () => number;
}

/**
 * Prometheus metrics of one `gru-stream kafka` instance, in its own Registry (never prom-client's
 * global one). Names are listed in docs/kafka.md; keep the two in step.
 */
export class KafkaMetrics {
  readonly registry = new Registry();
  readonly recordsIn: Counter;
  readonly recordsOut: Counter;
  readonly duplicates: Counter;
  readonly replayed: Counter;
  readonly rejected: Counter<'code'>;
  readonly rebalances: Counter;
  readonly consumerRestarts: Counter;
  readonly checkpoints: Counter;
  readonly checkpointDuration: Histogram;

  constructor(sources: KafkaMetricsSources) {
    const registers = [this.registry];
    this.recordsIn = new Counter({ name: 'gru_stream_kafka_records_in_total', help: 'Input records applied to a series state (once each, however often they were fetched).', registers });
    this.recordsOut = new Counter({ name: 'gru_stream_kafka_records_out_total', help: 'Forecast records acknowledged by the output topic.', registers });
    this.duplicates = new Counter({ name: 'gru_stream_kafka_duplicates_dropped_total', help: 'Input records fetched again below a partition checkpoint\'s offset: already in the state, dropped.', registers });
    this.replayed = new Counter({ name: 'gru_stream_kafka_replayed_records_total', help: 'Input records applied again after a handover, between the checkpoint and the group\'s committed offset; their forecasts were most likely output before (at-least-once duplicates).', registers });
    this.rejected = new Counter({ name: 'gru_stream_kafka_rejected_records_total', help: 'Input records that were not usable samples, by error code (skipped; their offsets still advance).', labelNames: ['code'], registers });
    this.rebalances = new Counter({ name: 'gru_stream_kafka_rebalances_total', help: 'Group joins of this instance (each one a new partition assignment).', registers });
    this.consumerRestarts = new Counter({ name: 'gru_stream_kafka_consumer_restarts_total', help: 'kafkajs consumer crashes after which this instance started a new consumer.', registers });
    this.checkpoints = new Counter({ name: 'gru_stream_kafka_checkpoints_total', help: 'Partition checkpoints saved.', registers });
    this.checkpointDuration = new Histogram({ name: 'gru_stream_kafka_checkpoint_duration_seconds', help: 'Time to export and save one partition checkpoint.', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers });
    new Gauge({
      name: 'gru_stream_kafka_consumer_lag', help: 'Input records behind the partition\'s high watermark, per assigned partition (as of the last fetch).', labelNames: ['partition'], registers,
      collect() {
        this.reset();
        for (const p of sources.partitions()) if (p.lag !== null) this.set({ partition: String(p.partition) }, p.lag);
      },
    });
    new Gauge({
      name: 'gru_stream_kafka_checkpoint_age_seconds', help: 'Seconds since the partition\'s last checkpoint, per assigned partition.', labelNames: ['partition'], registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const p of sources.partitions()) this.set({ partition: String(p.partition) }, (now - p.lastCheckpointAt) / 1000);
      },
    });
    new Gauge({ name: 'gru_stream_kafka_assigned_partitions', help: 'Input partitions this instance holds.', registers, collect() { this.set(sources.partitions().length); } });
    new Gauge({ name: 'gru_stream_live_series', help: 'Series whose state this instance holds (all its partitions).', registers, collect() { this.set(sources.liveSeries()); } });
  }
}
