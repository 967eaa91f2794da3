import { EventEmitter, once } from 'node:events';
import { type GruStreamError, isGruStreamError } from '../errors.js';
import type { GruModel } from '../model/model.js';
import { Normaliser } from '../model/normaliser.js';
import { createMessageScanner } from '../stream/ndjson-scan.js';
import { type Forecast, type Predictor, type PredictorStats, createPredictor } from '../stream/predictor.js';
import { type CheckedSample, checkSample } from '../stream/sample.js';
import type { AccuracySnapshot, OverallAccuracy } from './accuracy.js';
import { AccuracyPublisher } from './accuracy-publisher.js';
import { WriteGate } from './backpressure.js';
import { type IngestSession, ackApplied, isAckToken } from './ingest.js';
import { isInputMark } from './input-progress.js';
import { type SampleSource, ServeMetrics } from './metrics.js';
import type { ResolvedServeOptions } from './options.js';
import { SubscriberHub } from './subscriber-hub.js';
import type { SubscriberInfo } from './subscriber-info.js';

/**
 * The server's one predictor and everything its output feeds: the subscriber hub, the accuracy
 * publisher, the metrics and the handle's `events`. Sources write into `gate`; endpoints and
 * routes read the rest. No sockets here.
 *
 * The predictor's output is read in flowing mode and fanned out synchronously; the hub never
 * blocks, so a slow subscriber cannot stall the predictor, the producers or other subscribers.
 */
export class ServePipeline {
  readonly predictor: Predictor;
  /** Where every sample source writes (backpressure: 'drain'). */
  readonly gate: WriteGate;
  readonly hub: SubscriberHub;
  readonly metrics: ServeMetrics;
  readonly events = new EventEmitter();
  /** Open /ingest connections (acks, durable acks). */
  readonly ingestSessions = new Set<IngestSession>();
  /** Rejections from every source (ingest pre-checks included), as /metrics counts them. */
  private rejectedTotal = 0;
  private readonly accuracy: AccuracyPublisher;
  private readonly normaliser: Normaliser;
  private readonly knownSeries: ReadonlySet<string> | null;
  private failed: Error | undefined;

  constructor(
    readonly model: GruModel,
    opts: ResolvedServeOptions,
  ) {
    const { limits, log } = opts;
    this.predictor = createPredictor(model, { ...opts.predictor, onInvalid: 'report' });
    this.normaliser = new Normaliser(model.config);
    this.knownSeries = opts.predictor.knownSeries ? new Set(opts.predictor.knownSeries) : null;
    this.scanMessage = createMessageScanner(model.config.inputSize, this.normaliser.positiveOnly);
    this.gate = new WriteGate(this.predictor);
    this.hub = new SubscriberHub({ highWaterBytes: limits.subscriberHighWater, slowCloseMs: limits.slowCloseMs, history: limits.history, historySeries: limits.historySeries });
    this.metrics = new ServeMetrics({
      liveSeries: () => this.predictor.stats().liveSeries,
      subscribers: () => this.hub.size,
      overall: () => this.accuracy.overall(),
      levels: this.predictor.options.intervalLevels ?? [],
    });
    this.accuracy = new AccuracyPublisher(this.hub, this.metrics, limits.accuracyIntervalMs);
    const { predictor, hub, metrics, accuracy, events } = this;

    predictor.on('data', (record: Forecast) => {
      metrics.forecastsOut.inc();
      hub.publishForecast(record.series, JSON.stringify({ type: 'forecast', ...record }));
      accuracy.observe(record);
      events.emit('forecast', record);
    });
    // Samples the predictor itself rejects (ingest pre-checks its own with the same checkSample, so
    // these come from --input/--replay rows that parsed but are not usable samples).
    predictor.on('invalid', (err: GruStreamError) => this.reportInvalid(err, 'predictor'));
    predictor.on('evict', ({ series }: { series: string }) => {
      metrics.evictions.inc();
      accuracy.forget(series);
      hub.forgetSeries(series);
      metrics.forgetSeries(series);
    });
    predictor.on('duplicate', () => metrics.duplicates.inc());
    predictor.on('marker', (token: unknown) => {
      if (isAckToken(token)) ackApplied(token);
      else if (isInputMark(token)) token.progress.nextLine = token.next;
    });
    predictor.on('batch', ({ size, latencyMs }: { size: number; latencyMs: number }) => {
      metrics.stepLatency.observe(latencyMs / 1000);
      metrics.batchSize.observe(size);
    });
    predictor.on('error', (err: Error) => {
      // Fatal for forecasting (e.g. the worker pool failed repeatedly); the server stays up to
      // say so on /healthz rather than vanishing.
      this.failed = err;
      log(`gru-stream: predictor failed: ${isGruStreamError(err) ? `${err.code}: ` : ''}${err.message}`);
    });
    hub.on('dropped', (n: number) => metrics.dropped.inc(n));
    hub.on('slow-close', (info: SubscriberInfo) => {
      metrics.slowCloses.inc();
      log(`gru-stream: subscriber ${info.id} closed with 4008 (behind ${info.behindMs} ms, ${info.bufferedAmount} bytes buffered)`);
      events.emit('slow-close', info);
    });
  }

  /** Accuracy and interval calibration for /healthz: overall, and the first `limit` series. */
  accuracyReport(limit: number): { overall: OverallAccuracy; series: AccuracySnapshot[]; seriesShown: number } {
    const series = this.accuracy.snapshots(limit);
    return { overall: this.accuracy.overall(), series, seriesShown: series.length };
  }

  /** Predictor stats, with `rejected` counting every source's rejections (ingest's pre-checks too). */
  stats(): PredictorStats {
    return { ...this.predictor.stats(), rejected: this.rejectedTotal };
  }

  /** The predictor's fatal error, if it failed (reported on /healthz). */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** /ingest's native message reader (null without the addon): see ingest.ts. */
  readonly scanMessage: ReturnType<typeof createMessageScanner>;

  /** Throws a coded InputError for a sample the predictor would reject (the /ingest pre-check). */
  check(raw: unknown): CheckedSample {
    return checkSample(raw, this.model.config.columns, this.normaliser, this.knownSeries);
  }

  /** Counts a rejected sample and tells the series' subscribers (and `events`) why. */
  reportInvalid(err: GruStreamError, source: SampleSource | 'predictor'): void {
    this.rejectedTotal++;
    this.metrics.rejected.inc({ code: err.code });
    const { series, line } = err.details;
    const msg = { type: 'invalid', code: err.code, message: err.message, source, ...(line === undefined ? {} : { line }), ...(series === undefined ? {} : { series }) };
    this.hub.publishInvalid(typeof series === 'string' ? series : undefined, JSON.stringify(msg));
    this.events.emit('invalid', err);
  }

  /**
   * Between replay passes. predictor.reset() resolves after every earlier record was pushed, and
   * the flowing 'data' listener above receives a push synchronously, so no record of the old pass
   * can reach the accuracy publisher after it was cleared here.
   */
  async resetSeries(series: string): Promise<void> {
    await this.predictor.reset(series);
    this.accuracy.forget(series);
    this.metrics.forgetSeries(series);
    this.hub.resetSeries(series, JSON.stringify({ type: 'reset', series }));
  }

  stopTimers(): void {
    this.accuracy.stop();
  }

  /** Ends the predictor (pending samples are still forecast) and waits until it closed. */
  async end(): Promise<void> {
    if (this.predictor.destroyed) return;
    const finished = once(this.predictor, 'close').catch(() => undefined);
    this.predictor.end();
    await finished;
  }

  /** For a start that failed before anything was served: nothing is left to flush. */
  destroy(): void {
    this.stopTimers();
    this.predictor.destroy();
  }
}
