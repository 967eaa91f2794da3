// The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// it connects with its own ?token=, draws what the server sends, and shows the same accuracy
// numbers a plain ws client receives. Saves test-artifacts/dashboard.png for a human to look at.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { repoRoot, trainedModels } from '../helpers/fixtures.js';
import { type Client, connect, csvSamples, ingestAll, readCsv, startServer, wsUrl } from './serve-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'dash-token';
const ROWS = 700;

let browser: Browser;
let handle: ServeHandle;
let observer: Client;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const c = trainedModels().find((m) => m.name === 'sunspot_gru')!;
  handle = await startServer({ model: c.modelPath, token: TOKEN, limits: { accuracyIntervalMs: 50 } });
  observer = await connect(wsUrl(handle, `/forecasts?token=${TOKEN}`));
});
afterAll(async () => {
  await observer?.close();
  await browser?.close();
  await handle?.close();
});

describe('dashboard in headless Chromium', () => {
  it('draws the forecasts and shows the accuracy the server sent', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${handle.url}?token=${TOKEN}`);
    await page.waitForSelector('#status[data-state="open"]');

    const c = trainedModels().find((m) => m.name === 'sunspot_gru')!;
    const sunspots = csvSamples(readCsv(c.csvPath), ['value'], 'sunspot_month').slice(-ROWS);
    const damped = sunspots.map((s) => ({ ...s, series: 'sunspot_damped', values: [s.values[0] * 0.5] }));
    const producer = await connect(wsUrl(handle, '/ingest'), { headers: { Authorization: `Bearer ${TOKEN}` } });
    await ingestAll(producer, sunspots.flatMap((s, i) => [s, damped[i]]));
    await producer.close();
    await observer.until(() => ['sunspot_month', 'sunspot_damped'].every((s) => observer.of('accuracy', s).some((m) => m.n === ROWS - 1)), 'final accuracy');

    // Wait for the page to have drawn everything (it redraws once per animation frame).
    await page.waitForFunction((rows) => {
      const el = document.querySelector('.chart[data-series="sunspot_month"]') as HTMLElement | null;
      const row = document.querySelector('#accuracy tr[data-series="sunspot_month"]') as HTMLElement | null;
      return el?.dataset.count === String(rows) && row?.dataset.n === String(rows - 1);
    }, ROWS);

    for (const series of ['sunspot_month', 'sunspot_damped']) {
      const sent = observer.of('forecast', series);
      expect(sent).toHaveLength(ROWS);
      const drawn = await page.evaluate((id) => {
        const d = (window as any).gruDashboard;
        const chart = d.charts.get(id);
        const el = document.querySelector(`.chart[data-series="${id}"]`) as HTMLElement;
        return {
          points: chart.u.data[0].length,
          x: chart.u.data[0].slice(-3),
          actual: chart.u.data[1].slice(-3),
          forecastFor: chart.u.data[2].slice(-3),
          count: Number(el.dataset.count),
          nextForecast: JSON.parse(el.dataset.nextForecast!),
          canvas: !!el.querySelector('canvas'),
        };
      }, series);
      // 500 points drawn (the page keeps the latest 500), the last ones exactly what was sent; the
      // forecast line at a point is the forecast made for it one step earlier.
      expect(drawn.canvas).toBe(true);
      expect(drawn.count).toBe(ROWS);
      expect(drawn.points).toBe(500);
      expect(drawn.x).toEqual(sent.slice(-3).map((m) => m.t));
      expect(drawn.actual).toEqual(sent.slice(-3).map((m) => m.actual[0]));
      expect(drawn.forecastFor).toEqual(sent.slice(-4, -1).map((m) => m.forecast[0]));
      expect(drawn.nextForecast).toEqual(sent.at(-1)!.forecast);

      const acc = observer.of('accuracy', series).at(-1)!;
      await page.waitForFunction(([id, n]) => (document.querySelector(`#accuracy tr[data-series="${id}"]`) as HTMLElement)?.dataset.n === String(n), [series, acc.n] as const);
      const shown = await page.evaluate((id) => {
        const row = document.querySelector(`#accuracy tr[data-series="${id}"]`) as HTMLTableRowElement;
        return { data: { ...row.dataset }, cells: [...row.cells].map((td) => td.textContent) };
      }, series);
      expect(Number(shown.data.maeModel)).toBe(acc.maeModel);
      expect(Number(shown.data.maePersistence)).toBe(acc.maePersistence);
      expect(shown.cells[1]).toBe(String(acc.n));
      expect(shown.cells[2]).toBe(acc.maeModel.toPrecision(5));
      expect(shown.cells[3]).toBe(acc.maePersistence.toPrecision(5));
      expect(shown.cells[5]).toBe(acc.winner);
    }
    expect(pageErrors).toEqual([]);

    mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'dashboard.png'), fullPage: true });
    await page.close();
  });

  it('without the token the page cannot connect, and says so', async () => {
    const page = await browser.newPage();
    await page.goto(handle.url);
    await page.waitForSelector('#status[data-state="closed"]');
    expect(await page.textContent('#status')).toContain('token');
    await page.close();
  });
});
