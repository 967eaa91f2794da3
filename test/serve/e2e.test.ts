// End to end: a trained model's real CSV pushed through WS /ingest, forecasts read back over
// WS /forecasts, compared with createPredictor run directly on the same input and with the
// PyTorch reference forecasts in the shared fixtures.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load-model.js';
import { createPredictor } from '../../src/stream/predictor.js';
import type { ServeHandle } from '../../src/serve/server.js';
import { runCli } from '../helpers/cli.js';
import { trainedModels } from '../helpers/fixtures.js';
import { type Message, connect, csvSamples, ingestAll, readCsv, startServer, wsUrl } from './serve-helpers.js';

let handle: ServeHandle | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

/**
 * What createPredictor itself outputs for these samples, in order. Read in flowing mode, as the
 * server reads it, with write()/'drain' backpressure on the writing side.
 */
async function directForecasts(modelPath: string, samples: object[]): Promise<Message[]> {
  const predictor = createPredictor(await loadModel(modelPath));
  const out: Message[] = [];
  predictor.on('data', (r: Message) => out.push(r));
  const ended = once(predictor, 'end');
  for (const s of samples) if (!predictor.write(s)) await once(predictor, 'drain');
  predictor.end();
  await ended;
  return out;
}

describe.each(trainedModels().map((c) => [c.name, c] as const))('serve e2e with %s', (_name, c) => {
  it('a subscriber to one series gets exactly that series\' forecasts, equal to createPredictor\'s and to PyTorch\'s', async () => {
    handle = await startServer({ model: c.modelPath });
    const columns = handle.model.config.columns;
    const table = readCsv(c.csvPath);
    const a = csvSamples(table, columns, 'A');
    // A second series with different values interleaved: the filter must keep it out, and the
    // per-series state must keep it from disturbing A's forecasts.
    const b = csvSamples(table, columns, 'B').map((s) => ({ ...s, values: s.values.map((v) => v * 1.5 + 1) }));
    const samples = a.flatMap((s, i) => [s, b[i]]);

    const subscriber = await connect(wsUrl(handle, '/forecasts?series=A'));
    const everything = await connect(wsUrl(handle, '/forecasts'));
    const producer = await connect(wsUrl(handle, '/ingest'));
    const sent = await ingestAll(producer, samples, 250);
    expect(sent).toEqual({ accepted: samples.length, rejected: 0 });
    expect(producer.of('error')).toEqual([]);

    await subscriber.until(() => subscriber.count('forecast') === a.length, `${a.length} forecasts for A`);
    await everything.until(() => everything.count('forecast') === samples.length, 'every forecast');

    const received = subscriber.of('forecast');
    expect(received.every((m) => m.series === 'A')).toBe(true);
    expect(subscriber.messages.filter((m) => m.series !== undefined && m.series !== 'A')).toEqual([]);

    // Same records as the predictor run directly on the same interleaved input, bit for bit.
    const direct = await directForecasts(c.modelPath, samples);
    expect(received.map(({ type, ...rest }) => rest)).toEqual(direct.filter((r) => r.series === 'A'));
    expect(everything.of('forecast').map(({ type, ...rest }) => rest)).toEqual(direct);
    expect(received.map((m) => m.t)).toEqual(a.map((s) => s.t));
    expect(received.map((m) => m.actual)).toEqual(a.map((s) => s.values));

    // And `gru-stream predict` on the same input (NDJSON on stdin): the same records for A.
    const cli = await runCli(['predict', '--model', c.modelPath, '--with-actual'], samples.map((s) => JSON.stringify(s)).join('\n'));
    expect(cli.code).toBe(0);
    const predicted = cli.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.series === 'A');
    expect(received.map(({ type, ...rest }) => rest)).toEqual(predicted);

    // And the PyTorch reference: the non-null forecasts, in order, are the fixture's forecasts.
    const forecasts = received.filter((m) => m.forecast !== null).map((m) => m.forecast as number[]);
    expect(forecasts).toHaveLength(c.expected.forecasts.length);
    const logReturn = c.expected.config.transform.startsWith('log_return');
    forecasts.forEach((f, k) => f.forEach((v, col) => {
      const want = c.expected.forecasts[k][col];
      const tol = 1e-5 * c.expected.config.norm_std[col] * (logReturn ? Math.abs(want) : 1);
      expect(Math.abs(v - want), `forecast ${k} column ${col}`).toBeLessThanOrEqual(tol);
    }));
    await Promise.all([subscriber.close(), everything.close(), producer.close()]);
  });

  it('live accuracy equals MAE recomputed from the forecasts sent, for model and persistence', async () => {
    handle = await startServer({ model: c.modelPath, limits: { accuracyIntervalMs: 20 } });
    const table = readCsv(c.csvPath);
    const a = csvSamples(table, handle.model.config.columns, 'A');
    const subscriber = await connect(wsUrl(handle, '/forecasts?series=A'));
    const producer = await connect(wsUrl(handle, '/ingest'));
    await ingestAll(producer, a, 400);
    await subscriber.until(() => subscriber.count('forecast') === a.length, 'all forecasts');
    const records = subscriber.of('forecast');
    let n = 0;
    let model = 0;
    let persistence = 0;
    for (let k = 1; k < records.length; k++) {
      const prev = records[k - 1];
      if (prev.forecast === null) continue;
      const actual = records[k].actual as number[];
      model += actual.reduce((s, v, col) => s + Math.abs(prev.forecast[col] - v), 0) / actual.length;
      persistence += actual.reduce((s, v, col) => s + Math.abs(prev.actual[col] - v), 0) / actual.length;
      n++;
    }
    await subscriber.until(() => subscriber.of('accuracy', 'A').some((m) => m.n === n), `accuracy over ${n} steps`);
    const acc = subscriber.of('accuracy', 'A').find((m) => m.n === n)!;
    expect(acc.maeModel).toBeCloseTo(model / n, 9);
    expect(acc.maePersistence).toBeCloseTo(persistence / n, 9);
    expect(acc.winner).toBe(acc.maeModel < acc.maePersistence ? 'model' : 'persistence');
    expect(acc.skill).toBeCloseTo(1 - acc.maeModel / acc.maePersistence, 12);
    await Promise.all([subscriber.close(), producer.close()]);
  });
});

describe('serve: subscriptions and history', () => {
  it('subscribe/unsubscribe change the filter; a late subscriber gets the series history first', async () => {
    const c = trainedModels().find((m) => m.name === 'sunspot_gru')!;
    handle = await startServer({ model: c.modelPath, limits: { history: 50 } });
    const a = csvSamples(readCsv(c.csvPath), ['value'], 'A').slice(0, 120);
    const producer = await connect(wsUrl(handle, '/ingest'));
    await ingestAll(producer, [...a, ...a.map((s) => ({ ...s, series: 'B' }))]);

    const late = await connect(wsUrl(handle, '/forecasts?series=A'));
    await late.until(() => late.count('history') === 1, 'history');
    const history = late.of('history')[0];
    expect(history.series).toBe('A');
    expect(history.forecasts).toHaveLength(50);
    expect(history.forecasts.map((f: Message) => f.t)).toEqual(a.slice(-50).map((s) => s.t));

    late.send({ type: 'subscribe', series: ['B'] });
    await late.until(() => late.count('subscribed') === 1 && late.count('history') === 2, 'B subscribed');
    expect(late.of('subscribed')[0].series.sort()).toEqual(['A', 'B']);
    late.send({ type: 'unsubscribe', series: ['A'] });
    await late.until(() => late.count('subscribed') === 2, 'A unsubscribed');
    expect(late.of('subscribed')[1].series).toEqual(['B']);
    await ingestAll(producer, [{ series: 'A', value: 10 }, { series: 'B', value: 11 }]);
    await late.until(() => late.count('forecast') === 1, 'one live forecast');
    expect(late.of('forecast')[0].series).toBe('B');
    await Promise.all([late.close(), producer.close()]);
  });
});
