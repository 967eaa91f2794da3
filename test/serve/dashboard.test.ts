// The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// it connects with its own ?token=, draws what the server sends (lines, the prediction-interval band
// and the forecast path ahead, one chart per model column), shows the same accuracy and coverage a
// plain ws client receives, and logs no console errors. Saves test-artifacts/dashboard*.png for a
// human to look at.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/serve/server.js';
import { repoRoot, trainedModels } from '../helpers/fixtures.js';
import { type Client, type Message, connect, csvSamples, ingestAll, readCsv, startServer, wsUrl } from './serve-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'dash-token';
const ROWS = 700;
/** Index of each drawn series in a chart's data (assets/dashboard/dashboard.js). */
const X = 0, ACTUAL = 1, FORECAST = 2, AHEAD = 3, LOWER = 4, UPPER = 5;

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
  handle = await startServer({ model: c.modelPath, token: TOKEN, interval: 0.9, limits: { accuracyIntervalMs: 50 } });
  observer = await connect(wsUrl(handle, `/forecasts?token=${TOKEN}`));
});
afterAll(async () => {
  await observer?.close();
  await browser?.close();
  await handle?.close();
});

/** A page that records uncaught errors and console errors (a missing favicon is one). */
async function openPage(url: string, viewport = { width: 1280, height: 1100 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForSelector('#status[data-state="open"]');
  return { page, errors };
}

/** A chart's plotted data, read back from uPlot. */
async function plotted(page: Page, series: string, column: number): Promise<{ data: Array<Array<number | null>>; title: string; canvas: boolean }> {
  return page.evaluate(([id, c]) => {
    const chart = (window as any).gruDashboard.charts.get(id);
    const col = chart.columns[c];
    return { data: col.u.data.map((d: unknown[]) => [...d]), title: col.el.querySelector('h3').textContent, canvas: !!col.el.querySelector('canvas') };
  }, [series, column] as const);
}

/**
 * Samples the canvas: at points where the band is at least 10 px tall and no line passes within
 * 3 px, a pixel 3 px inside the upper bound must carry the band's fill and one 4 px above it must not.
 * Returns [checked points, points where that held].
 */
async function bandPixels(page: Page, series: string, column: number): Promise<[number, number]> {
  return page.evaluate(([id, c]) => {
    const u = (window as any).gruDashboard.charts.get(id).columns[c].u;
    const ctx = u.ctx as CanvasRenderingContext2D;
    const d = u.data;
    const px = (v: number, scale: string) => u.valToPos(v, scale, true);
    const rgb = (x: number, y: number) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data);
    // The canvas is transparent where nothing is drawn; the band is the forecast's orange at low
    // opacity (getImageData gives unpremultiplied RGBA).
    const tinted = ([r, , b, a]: number[]) => a > 20 && r - b > 25;
    const blank = ([, , , a]: number[]) => a < 8;
    let checked = 0;
    let held = 0;
    for (let i = 1; i < d[0].length; i += 3) {
      const lo = d[4][i], hi = d[5][i];
      if (lo === null || hi === null) continue;
      const x = px(d[0][i], 'x');
      const yHi = px(hi, 'y'), yLo = px(lo, 'y');
      if (yLo - yHi < 10) continue;
      const inside = yHi + 3, above = yHi - 4;
      const lines = [d[1][i], d[2][i], d[3][i]].filter((v) => v !== null).map((v) => px(v, 'y'));
      if (lines.some((y) => Math.abs(y - inside) < 3 || Math.abs(y - above) < 3)) continue;
      const out = rgb(x, above);
      if (!blank(out)) continue; // a grid line or an axis; not a place to judge
      checked++;
      if (tinted(rgb(x, inside))) held++;
    }
    return [checked, held];
  }, [series, column] as const);
}

function screenshot(page: Page, name: string): Promise<Buffer> {
  mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
  return page.screenshot({ path: join(repoRoot, 'test-artifacts', name), fullPage: true });
}

describe('dashboard in headless Chromium', () => {
  it('draws the forecasts, the interval band and the path ahead from the data sent, and shows accuracy and coverage', async () => {
    const { page, errors } = await openPage(`${handle.url}?token=${TOKEN}`);

    const c = trainedModels().find((m) => m.name === 'sunspot_gru')!;
    const sunspots = csvSamples(readCsv(c.csvPath), ['value'], 'sunspot_month').slice(-ROWS);
    const damped = sunspots.map((s) => ({ ...s, series: 'sunspot_damped', values: [s.values[0] * 0.5] }));
    const producer = await connect(wsUrl(handle, '/ingest'), { headers: { Authorization: `Bearer ${TOKEN}` } });
    await ingestAll(producer, sunspots.flatMap((s, i) => [s, damped[i]]));
    await producer.close();
    await observer.until(() => ['sunspot_month', 'sunspot_damped'].every((s) => observer.of('accuracy', s).some((m) => m.n === ROWS - 1)), 'final accuracy');

    // Wait for the page to have drawn everything (it redraws once per animation frame).
    await page.waitForFunction((rows) => {
      const el = document.querySelector('.series[data-series="sunspot_month"]') as HTMLElement | null;
      const row = document.querySelector('#accuracy tr[data-series="sunspot_month"]') as HTMLElement | null;
      return el?.dataset.count === String(rows) && row?.dataset.n === String(rows - 1);
    }, ROWS);

    for (const series of ['sunspot_month', 'sunspot_damped']) {
      const sent = observer.of('forecast', series);
      expect(sent).toHaveLength(ROWS);
      const { data, title, canvas } = await plotted(page, series, 0);
      // 500 points drawn (the page keeps the latest 500) plus the one-step path ahead.
      expect(canvas).toBe(true);
      expect(title).toBe(`${series} · value`);
      expect(data[X]).toHaveLength(501);
      const n = 500;
      expect(data[X].slice(n - 3, n)).toEqual(sent.slice(-3).map((m) => m.t));
      expect(data[ACTUAL].slice(n - 3, n)).toEqual(sent.slice(-3).map((m) => m.actual[0]));
      // The forecast and the band at a point are the ones made for it one step earlier.
      expect(data[FORECAST].slice(n - 3, n)).toEqual(sent.slice(-4, -1).map((m) => m.forecast[0]));
      const band = sent.slice(-n - 1, -1);
      expect(band.every((m: Message) => m.interval.level === 0.9 && m.interval.lower !== null)).toBe(true);
      expect(data[LOWER].slice(0, n)).toEqual(band.map((m: Message) => m.interval.lower[0]));
      expect(data[UPPER].slice(0, n)).toEqual(band.map((m: Message) => m.interval.upper[0]));
      // Ahead of the last actual: the newest forecast and its interval.
      const last = sent.at(-1)!;
      expect(data[AHEAD].slice(n - 1)).toEqual([last.actual[0], last.forecast[0]]);
      expect([data[LOWER][n], data[UPPER][n]]).toEqual([last.interval.lower[0], last.interval.upper[0]]);
      expect(data[ACTUAL][n]).toBeNull();
      // And the band is really painted there.
      const [checked, held] = await bandPixels(page, series, 0);
      expect(checked).toBeGreaterThan(20);
      expect(held / checked).toBeGreaterThan(0.9);

      const acc = observer.of('accuracy', series).at(-1)!;
      await page.waitForFunction(([id, k]) => (document.querySelector(`#accuracy tr[data-series="${id}"]`) as HTMLElement)?.dataset.n === String(k), [series, acc.n] as const);
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
      expect(JSON.parse(shown.data.intervals!)).toEqual(acc.intervals);
      expect(shown.cells[6]).toBe(`${(acc.intervals[0].coverage * 100).toFixed(1)} % (90 %)`);
      expect(acc.intervals[0].coverage).toBeGreaterThan(0.8);
    }
    expect(errors).toEqual([]);
    await screenshot(page, 'dashboard.png');
    await page.close();
  });

  it('a multi-column model: one chart per column titled with its name, bands and a horizon path from the data sent', async () => {
    const m = trainedModels().find((x) => x.expected.config.columns.length > 1)!;
    const columns = m.expected.config.columns;
    const server = await startServer({ model: m.modelPath, interval: [0.8, 0.95], horizon: 3, limits: { accuracyIntervalMs: 50 } });
    try {
      const watcher = await connect(wsUrl(server, '/forecasts'));
      const { page, errors } = await openPage(server.url, { width: 1280, height: 1400 });
      const rows = csvSamples(readCsv(m.csvPath), columns, 'stocks').slice(0, 300);
      const producer = await connect(wsUrl(server, '/ingest'));
      await ingestAll(producer, rows);
      await producer.close();
      await watcher.until(() => watcher.of('forecast', 'stocks').length === rows.length, 'all forecasts');
      await page.waitForFunction((k) => (document.querySelector('.series[data-series="stocks"]') as HTMLElement | null)?.dataset.count === String(k), rows.length);
      await screenshot(page, 'dashboard-multicolumn.png');
      const sent = watcher.of('forecast', 'stocks');
      const last = sent.at(-1)!;
      const titles = await page.$$eval('.chart[data-series="stocks"] h3', (hs) => hs.map((h) => h.textContent));
      expect(titles).toEqual(columns.map((col, c) => `stocks · ${col} (column ${c + 1} of ${columns.length})`));
      for (let c = 0; c < columns.length; c++) {
        const { data } = await plotted(page, 'stocks', c);
        const n = rows.length;
        expect(data[X]).toHaveLength(n + 3);
        expect(data[ACTUAL].slice(0, n)).toEqual(rows.map((r) => r.values[c]));
        // The band of the first level asked (0.8): per point the interval made one step earlier,
        // then the newest path's three steps.
        expect(data[LOWER].slice(1, n)).toEqual(sent.slice(0, -1).map((s: Message) => (s.intervals[0].lower ? s.intervals[0].lower[c] : null)));
        expect(data[AHEAD].slice(n)).toEqual(last.path.map((p: number[]) => p[c]));
        expect(data[LOWER].slice(n)).toEqual(last.intervalPaths[0].lower.map((p: number[]) => p[c]));
        expect(data[UPPER].slice(n)).toEqual(last.intervalPaths[0].upper.map((p: number[]) => p[c]));
        const [checked, held] = await bandPixels(page, 'stocks', c);
        expect(checked).toBeGreaterThan(5);
        expect(held / checked).toBeGreaterThan(0.9);
      }
      expect(errors).toEqual([]);
      await page.close();
      await watcher.close();
    } finally {
      await server.close();
    }
  });

  it('without the token the page cannot connect, and says so', async () => {
    const page = await browser.newPage();
    await page.goto(handle.url);
    await page.waitForSelector('#status[data-state="closed"]');
    expect(await page.textContent('#status')).toContain('token');
    await page.close();
  });
});
