import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { ServeHandle } from '../../src/serve/server.js';
import { trainedModels } from '../helpers/fixtures.js';
import { type Client, type Message, connect, csvSamples, ingestAll, metric, readCsv, scrape, startServer, wsUrl } from '../serve/serve-helpers.js';

/**
 * Live calibration: the coverage and width the server reports (accuracy messages, /healthz,
 * /metrics) are exactly what the forecast messages it sent imply.
 */
const ROWS = 300;
let handle: ServeHandle;
let watcher: Client;
const m = trainedModels().find((x) => x.expected.config.columns.length === 1)!;

beforeAll(async () => {
  handle = await startServer({ model: m.modelPath, interval: [0.8, 0.95], limits: { accuracyIntervalMs: 20 } });
  watcher = await connect(wsUrl(handle, '/forecasts'));
  const table = readCsv(m.csvPath);
  const producer = await connect(wsUrl(handle, '/ingest'));
  await ingestAll(producer, [...csvSamples(table, m.expected.config.columns, 'a').slice(0, ROWS), ...csvSamples(table, m.expected.config.columns, 'b').slice(ROWS, 2 * ROWS)]);
  await producer.close();
  await watcher.until(() => ['a', 'b'].every((s) => watcher.of('accuracy', s).some((x) => x.n === ROWS - 1)), 'final accuracy');
});
afterAll(async () => {
  await watcher?.close();
  await handle?.close();
});

/** Coverage and mean width of level l implied by the forecast messages of one series. */
function implied(sent: Message[], l: number): { n: number; coverage: number; meanWidth: number } {
  let n = 0, inside = 0, width = 0;
  for (let i = 1; i < sent.length; i++) {
    const iv = sent[i - 1].intervals[l];
    if (!iv.lower) continue;
    n++;
    const a = sent[i].actual[0];
    if (a >= iv.lower[0] && a <= iv.upper[0]) inside++;
    width += iv.upper[0] - iv.lower[0];
  }
  return { n, coverage: inside / n, meanWidth: width / n };
}

describe('serve --interval: live calibration', () => {
  it('accuracy messages report coverage and width per level, as the forecasts sent imply', () => {
    for (const series of ['a', 'b']) {
      const sent = watcher.of('forecast', series);
      expect(sent).toHaveLength(ROWS);
      const acc = watcher.of('accuracy', series).at(-1)!;
      expect(acc.intervals.map((x: Message) => x.level)).toEqual([0.8, 0.95]);
      for (let l = 0; l < 2; l++) {
        const want = implied(sent, l);
        expect(acc.intervals[l].n).toBe(want.n);
        expect(acc.intervals[l].coverage).toBeCloseTo(want.coverage, 12);
        expect(acc.intervals[l].meanWidth).toBeCloseTo(want.meanWidth, 9);
      }
      expect(acc.intervals[1].coverage).toBeGreaterThan(acc.intervals[0].coverage);
    }
  });

  it('/healthz and /metrics report the same per series and overall', async () => {
    const health = await (await fetch(`${handle.url}healthz`)).json();
    expect(health.intervalLevels).toEqual([0.8, 0.95]);
    const perSeries = ['a', 'b'].map((s) => watcher.of('accuracy', s).at(-1)!);
    expect(health.accuracy.series).toEqual(perSeries);
    const { overall } = health.accuracy;
    expect(overall.series).toBe(2);
    expect(overall.n).toBe(2 * (ROWS - 1));
    expect(overall.maeModel).toBeCloseTo((perSeries[0].maeModel + perSeries[1].maeModel) / 2, 9);
    for (let l = 0; l < 2; l++) {
      const [a, b] = perSeries.map((p) => p.intervals[l]);
      expect(overall.intervals[l].n).toBe(a.n + b.n);
      expect(overall.intervals[l].coverage).toBeCloseTo((a.coverage * a.n + b.coverage * b.n) / (a.n + b.n), 12);
    }
    const { samples } = await scrape(handle);
    for (const [l, level] of ['0.8', '0.95'].entries()) {
      for (const [i, series] of ['a', 'b'].entries()) {
        expect(metric(samples, 'gru_stream_interval_coverage', { series, level })).toBeCloseTo(perSeries[i].intervals[l].coverage, 12);
        expect(metric(samples, 'gru_stream_interval_width', { series, level })).toBeCloseTo(perSeries[i].intervals[l].meanWidth, 9);
      }
      expect(metric(samples, 'gru_stream_interval_coverage_overall', { level })).toBeCloseTo(overall.intervals[l].coverage, 12);
      expect(metric(samples, 'gru_stream_interval_width_overall', { level })).toBeCloseTo(overall.intervals[l].meanWidth, 9);
    }
    expect(metric(samples, 'gru_stream_mae_overall', { predictor: 'model' })).toBeCloseTo(overall.maeModel, 9);
  });

  it('a bad interval option is refused before the server starts, with ERR_OPTION', async () => {
    await expect(startServer({ model: m.modelPath, interval: 1.5 })).rejects.toMatchObject({ code: ErrorCodes.ERR_OPTION });
  });
});
