// GET /metrics parses as Prometheus text and its numbers equal what was actually sent, rejected,
// connected and scored; GET /healthz agrees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { type Client, connect, csvSamples, ingestAll, metric, readCsv, scrape, startServer, wsUrl } from './serve-helpers.js';
import { trainedModels } from '../helpers/fixtures.js';

let handle: ServeHandle;
let subs: Client[];
let batches = 0;
let batchSamples = 0;
const GOOD = 2 * 300;
beforeAll(async () => {
  const c = trainedModels().find((m) => m.name === 'sunspot_gru')!;
  handle = await startServer({ model: c.modelPath, limits: { accuracyIntervalMs: 10 } });
  handle.predictor.on('batch', ({ size }: { size: number }) => {
    batches++;
    batchSamples += size;
  });
  subs = [await connect(wsUrl(handle, '/forecasts')), await connect(wsUrl(handle, '/forecasts?series=A'))];
  const rows = csvSamples(readCsv(c.csvPath), ['value'], 'A').slice(0, 300);
  const producer = await connect(wsUrl(handle, '/ingest'));
  await ingestAll(producer, [...rows, ...rows.map((r) => ({ ...r, series: 'B' }))]);
  // 3 bad samples (2 non-finite, 1 width) and one unparsable message.
  await ingestAll(producer, [{ series: 'A', value: null }, { series: 'B', value: 'x' }, { series: 'A', values: [1, 2] }]);
  producer.send('{oops');
  await producer.until(() => producer.count('ack') === 5, 'last ack');
  await producer.close();
  await subs[0].until(() => subs[0].count('forecast') === GOOD, 'all forecasts');
  await subs[0].until(() => ['A', 'B'].every((s) => subs[0].of('accuracy', s).some((m) => m.n === 299)), 'final accuracy');
});
afterAll(async () => {
  await Promise.all(subs.map((s) => s.close()));
  await handle.close();
});

describe('GET /metrics', () => {
  it('is Prometheus text with HELP and TYPE for every family', async () => {
    const { samples, types, helps, contentType } = await scrape(handle);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(samples.length).toBeGreaterThan(10);
    for (const s of samples) {
      const family = s.name.replace(/_(bucket|sum|count)$/, '');
      expect(types.has(s.name) || types.has(family), s.name).toBe(true);
      expect(helps.has(s.name) || helps.has(family), s.name).toBe(true);
    }
    expect(types.get('gru_stream_samples_in_total')).toBe('counter');
    expect(types.get('gru_stream_step_latency_seconds')).toBe('histogram');
    expect(types.get('gru_stream_mae')).toBe('gauge');
  });

  it('counts equal what was sent, rejected, connected and stepped', async () => {
    const { samples } = await scrape(handle);
    expect(metric(samples, 'gru_stream_samples_in_total', { source: 'ingest' })).toBe(GOOD);
    expect(metric(samples, 'gru_stream_forecasts_out_total')).toBe(GOOD);
    expect(metric(samples, 'gru_stream_rejected_samples_total', { code: 'ERR_NON_FINITE' })).toBe(2);
    expect(metric(samples, 'gru_stream_rejected_samples_total', { code: 'ERR_INPUT_WIDTH' })).toBe(1);
    expect(metric(samples, 'gru_stream_rejected_samples_total', { code: 'ERR_PARSE' })).toBe(1);
    expect(metric(samples, 'gru_stream_live_series')).toBe(2);
    expect(metric(samples, 'gru_stream_subscribers')).toBe(2);
    expect(metric(samples, 'gru_stream_ws_connections_total', { endpoint: '/forecasts' })).toBe(2);
    expect(metric(samples, 'gru_stream_ws_connections_total', { endpoint: '/ingest' })).toBe(1);
    expect(metric(samples, 'gru_stream_dropped_messages_total')).toBe(0);
    expect(metric(samples, 'gru_stream_step_latency_seconds_count')).toBe(batches);
    expect(metric(samples, 'gru_stream_batch_size_sum')).toBe(batchSamples);
    expect(metric(samples, 'gru_stream_step_latency_seconds_bucket', { le: '+Inf' })).toBe(batches);
  });

  it('MAE gauges equal the last accuracy messages sent', async () => {
    const { samples } = await scrape(handle);
    for (const series of ['A', 'B']) {
      const last = subs[0].of('accuracy', series).at(-1)!;
      expect(last.n).toBe(299);
      expect(metric(samples, 'gru_stream_mae', { series, predictor: 'model' })).toBeCloseTo(last.maeModel, 9);
      expect(metric(samples, 'gru_stream_mae', { series, predictor: 'persistence' })).toBeCloseTo(last.maePersistence, 9);
      expect(metric(samples, 'gru_stream_scored_steps', { series })).toBe(299);
    }
  });

  it('/healthz reports the same counts as JSON', async () => {
    const health = await (await fetch(`${handle.url}healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', samplesIn: GOOD, forecastsOut: GOOD, liveSeries: 2, subscribers: 2, dropped: 0 });
    expect(health.model.columns).toEqual(['value']);
  });

  it('a second server in the same process has its own registry', async () => {
    const other = await startServer({});
    try {
      const { samples } = await scrape(other);
      expect(metric(samples, 'gru_stream_forecasts_out_total')).toBe(0);
    } finally {
      await other.close();
    }
  });
});
