// gru-stream live dashboard (browser side, no build step). Served at GET / by src/serve/dashboard.ts.
// One WebSocket to /forecasts; every message is one JSON object (see docs/serving.md):
//   history  -> replaces a series' points (sent on connect / subscribe, and again after a reconnect)
//   forecast -> appends a point: the actual value, and the forecast (and interval) that was made for it
//               one step earlier; the newest forecast path (and its interval) is drawn ahead of it
//   accuracy -> the server's running MAE of the model and of persistence for a series, and the
//               coverage and mean width of its prediction intervals
//   reset    -> the series starts over (replay loop): its points are dropped
//   invalid  -> a rejected sample or input line
// The page's own ?token= is forwarded to the socket (browsers cannot set an Authorization header on
// a WebSocket), and its ?series=a,b narrows the subscription.
(() => {
  'use strict';
  const MAX_POINTS = 500;
  const DEFAULT_CHARTS = 6;
  const ACTUAL = '#1d4ed8';
  const FORECAST = '#ea580c';
  // The interval band: the forecast's colour, mostly transparent, so the lines stay readable on it.
  const BAND_FILL = 'rgba(234, 88, 12, 0.16)';
  const BAND_EDGE = 'rgba(234, 88, 12, 0.35)';

  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const seriesParam = params.get('series');
  const base = location.pathname.replace(/[^/]*$/, '');

  /** Everything the page knows; exposed for debugging and for the headless-browser test. */
  const state = {
    columns: null,
    // id -> { x, actual[c], forecastFor[c], lowerFor[c], upperFor[c], count, lastT, lastActual,
    //        nextForecast, next: { path, lower, upper, level } } (next: the newest path and its interval)
    series: new Map(),
    selected: new Set(),
    charts: new Map(), // id -> { el, last, dirty, columns: [{ u, el }] } (one uPlot per column)
    accuracy: new Map(),
    received: { forecast: 0, history: 0, accuracy: 0, invalid: 0, reset: 0 },
    invalidCount: 0,
    socket: null,
    closeCode: null,
  };
  window.gruDashboard = state;

  const $ = (id) => document.getElementById(id);
  const fmt = (v) => (v === null || v === undefined ? '–' : Math.abs(v) >= 1000 ? v.toFixed(1) : v.toPrecision(5));

  function setStatus(kind, text) {
    const el = $('status');
    el.dataset.state = kind;
    el.textContent = text;
  }

  function columnsFor(width) {
    if (state.columns && state.columns.length === width) return state.columns;
    return Array.from({ length: width }, (_, i) => (width === 1 ? 'value' : `x${i}`));
  }

  const perColumn = (width) => Array.from({ length: width }, () => []);

  function emptySeries(width) {
    return { width, x: [], actual: perColumn(width), forecastFor: perColumn(width), lowerFor: perColumn(width), upperFor: perColumn(width), count: 0, lastT: null, lastActual: null, nextForecast: null, next: null };
  }

  /**
   * The first level's interval of a record (the band drawn): `lower`/`upper` per step of its path
   * ([step][column]); a step is null until the server publishes it (the next step comes first).
   */
  function intervalOf(rec) {
    const iv = rec.interval ?? (rec.intervals ? rec.intervals[0] : null);
    if (!iv) return null;
    const p = rec.intervalPath ?? (rec.intervalPaths ? rec.intervalPaths[0] : null);
    const steps = rec.path ? rec.path.length : 1;
    const bound = (first, path) => Array.from({ length: steps }, (_, k) => (path ? path[k] : k === 0 ? first : null));
    return { level: iv.level, lower: bound(iv.lower, p && p.lower), upper: bound(iv.upper, p && p.upper) };
  }

  function seriesOf(id, width) {
    let s = state.series.get(id);
    if (!s || s.width !== width) {
      s = emptySeries(width);
      state.series.set(id, s);
      addToPicker(id);
    }
    return s;
  }

  /** x is the record's numeric t while it increases (decimal years, epoch seconds, indices), else a running index. */
  function xFor(s, t) {
    const last = s.x.length ? s.x[s.x.length - 1] : null;
    if (typeof t === 'number' && (last === null || t > last)) return t;
    return last === null ? 0 : last + 1;
  }

  function append(id, rec) {
    const s = seriesOf(id, rec.actual.length);
    s.x.push(xFor(s, rec.t));
    const before = s.next;
    for (let c = 0; c < s.width; c++) {
      s.actual[c].push(rec.actual[c]);
      // The forecast and interval drawn at a point are the ones made for it one step earlier: that is what is scored.
      s.forecastFor[c].push(s.nextForecast ? s.nextForecast[c] : null);
      s.lowerFor[c].push(before && before.lower && before.lower[0] ? before.lower[0][c] : null);
      s.upperFor[c].push(before && before.upper && before.upper[0] ? before.upper[0][c] : null);
    }
    if (s.x.length > MAX_POINTS) {
      const drop = s.x.length - MAX_POINTS;
      s.x.splice(0, drop);
      for (const arr of [s.actual, s.forecastFor, s.lowerFor, s.upperFor]) for (let c = 0; c < s.width; c++) arr[c].splice(0, drop);
    }
    s.count++;
    s.lastT = rec.t;
    s.lastActual = rec.actual;
    s.nextForecast = rec.forecast;
    const iv = intervalOf(rec);
    s.next = { path: rec.path ?? (rec.forecast ? [rec.forecast] : null), lower: iv ? iv.lower : null, upper: iv ? iv.upper : null, level: iv ? iv.level : null };
    markDirty(id);
  }

  // ---- series picker --------------------------------------------------------------------------
  function addToPicker(id) {
    if (document.querySelector(`#picker input[data-series="${CSS.escape(id)}"]`)) return;
    const wanted = seriesParam ? seriesParam.split(',').map((s) => s.trim()).includes(id) : state.selected.size < DEFAULT_CHARTS;
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.dataset.series = id;
    box.checked = wanted;
    box.addEventListener('change', () => (box.checked ? select(id) : unselect(id)));
    label.append(box, ` ${id}`);
    $('picker').append(label);
    if (wanted) select(id);
  }

  function select(id) {
    state.selected.add(id);
    ensureChart(id);
    markDirty(id);
  }

  function unselect(id) {
    state.selected.delete(id);
    const chart = state.charts.get(id);
    if (chart) {
      for (const col of chart.columns) col.u.destroy();
      chart.el.remove();
      state.charts.delete(id);
    }
  }

  // ---- charts -----------------------------------------------------------------------------------
  // One chart per column of a series, titled "series · column" with the model's column names.
  // Each chart's data: [x, actual, forecast made one step earlier, path ahead, lower, upper]; the
  // path ahead starts at the last actual and runs `horizon` steps past it, the band spans
  // lower..upper (the interval made for each point, then the newest path's).
  const SERIES_AHEAD = 3;
  const SERIES_LOWER = 4;
  const SERIES_UPPER = 5;

  function ensureChart(id) {
    const s = state.series.get(id);
    if (!s || state.charts.has(id)) return;
    const el = document.createElement('div');
    el.className = 'series';
    el.dataset.series = id;
    const last = document.createElement('div');
    last.className = 'last';
    el.append(last);
    $('charts').append(el);
    const columns = columnsFor(s.width).map((col, c) => {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.series = id;
      box.dataset.column = col;
      const title = document.createElement('h3');
      title.textContent = s.width === 1 ? `${id} · ${col}` : `${id} · ${col} (column ${c + 1} of ${s.width})`;
      box.append(title);
      el.append(box);
      const series = [
        { label: 't' },
        { label: 'actual', stroke: ACTUAL, width: 1.5 },
        { label: 'forecast (one step earlier)', stroke: FORECAST, width: 1.25, dash: [5, 3] },
        { label: 'path ahead', stroke: FORECAST, width: 2 },
        { label: 'interval lower', stroke: BAND_EDGE, width: 1 },
        { label: 'interval upper', stroke: BAND_EDGE, width: 1 },
      ];
      const width = Math.max(320, box.clientWidth - 16);
      // x is a plain number (decimal year, index, epoch seconds): no time axis, no thousands separators.
      const axes = [{ values: (_u, splits) => splits.map((v) => String(+v.toFixed(3))) }, {}];
      const bands = [{ series: [SERIES_UPPER, SERIES_LOWER], fill: BAND_FILL }];
      const u = new uPlot({ width, height: 260, scales: { x: { time: false } }, series, bands, axes, legend: { live: true } }, chartData(s, c), box);
      return { u, el: box };
    });
    state.charts.set(id, { el, last, dirty: true, columns });
  }

  /** Column c's data, with the newest path and its interval drawn past the last actual. */
  function chartData(s, c) {
    const n = s.x.length;
    const next = s.next;
    const steps = next && next.path ? next.path.length : 0;
    const dx = n >= 2 ? s.x[n - 1] - s.x[n - 2] : 1;
    const x = s.x.slice();
    for (let k = 1; k <= steps; k++) x.push(s.x[n - 1] + k * dx);
    const none = new Array(steps).fill(null);
    const ahead = new Array(n).fill(null);
    if (n > 0 && steps > 0) ahead[n - 1] = s.actual[c][n - 1];
    const lower = s.lowerFor[c].concat(none);
    const upper = s.upperFor[c].concat(none);
    for (let k = 0; k < steps; k++) {
      ahead.push(next.path[k][c]);
      lower[n + k] = next.lower && next.lower[k] ? next.lower[k][c] : null;
      upper[n + k] = next.upper && next.upper[k] ? next.upper[k][c] : null;
    }
    return [x, s.actual[c].concat(none), s.forecastFor[c].concat(none), ahead, lower, upper];
  }

  let frame = 0;
  function markDirty(id) {
    const chart = state.charts.get(id);
    if (chart) chart.dirty = true;
    if (!frame) frame = requestAnimationFrame(render);
  }

  /** At most one redraw per frame, however many forecasts arrived since the last one. */
  function render() {
    frame = 0;
    for (const id of state.selected) {
      ensureChart(id);
      const chart = state.charts.get(id);
      const s = state.series.get(id);
      if (!chart || !s || !chart.dirty) continue;
      chart.dirty = false;
      chart.columns.forEach((col, c) => col.u.setData(chartData(s, c)));
      chart.el.dataset.points = String(s.x.length);
      chart.el.dataset.count = String(s.count);
      chart.el.dataset.lastActual = JSON.stringify(s.lastActual);
      chart.el.dataset.nextForecast = JSON.stringify(s.nextForecast);
      const band = s.next && s.next.lower && s.next.lower[0] ? `   ${Math.round(s.next.level * 100)} % interval ${s.next.lower[0].map((lo, c) => `${fmt(lo)} – ${fmt(s.next.upper[0][c])}`).join(', ')}` : '';
      chart.last.textContent = `${id}: t = ${s.lastT}   actual ${s.lastActual ? s.lastActual.map(fmt).join(', ') : '–'}   next forecast ${s.nextForecast ? s.nextForecast.map(fmt).join(', ') : '–'}${band}   (${s.count} samples, last ${s.x.length} drawn)`;
    }
  }

  // ---- accuracy ---------------------------------------------------------------------------------
  function showAccuracy(msg) {
    state.accuracy.set(msg.series, msg);
    const tbody = document.querySelector('#accuracy tbody');
    let row = tbody.querySelector(`tr[data-series="${CSS.escape(msg.series)}"]`);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.series = msg.series;
      for (let i = 0; i < 8; i++) row.append(document.createElement('td'));
      row.cells[0].textContent = msg.series;
      tbody.append(row);
    }
    row.dataset.n = String(msg.n);
    row.dataset.maeModel = String(msg.maeModel);
    row.dataset.maePersistence = String(msg.maePersistence);
    row.dataset.winner = msg.winner;
    row.cells[1].textContent = String(msg.n);
    row.cells[2].textContent = fmt(msg.maeModel);
    row.cells[3].textContent = fmt(msg.maePersistence);
    row.cells[4].textContent = msg.skill === null ? '–' : `${(msg.skill * 100).toFixed(1)} %`;
    row.cells[5].textContent = msg.winner === 'tie' ? 'tie' : msg.winner === 'model' ? 'model' : 'persistence';
    row.cells[5].className = `winner-${msg.winner}`;
    // Interval coverage (target level in brackets) and mean width, one line per level.
    const levels = msg.intervals ?? [];
    row.dataset.intervals = JSON.stringify(levels);
    row.cells[6].textContent = levels.length ? levels.map((l) => `${l.coverage === null ? '–' : `${(l.coverage * 100).toFixed(1)} %`} (${Math.round(l.level * 100)} %)`).join(' · ') : '–';
    row.cells[7].textContent = levels.length ? levels.map((l) => fmt(l.meanWidth)).join(' · ') : '–';
  }

  function clearSeries(id) {
    const s = state.series.get(id);
    if (s) state.series.set(id, emptySeries(s.width));
    state.accuracy.delete(id);
    const row = document.querySelector(`#accuracy tr[data-series="${CSS.escape(id)}"]`);
    if (row) row.remove();
    markDirty(id);
  }

  function showInvalid(msg) {
    state.invalidCount++;
    $('invalid-count').textContent = String(state.invalidCount);
    const li = document.createElement('li');
    li.textContent = `${msg.code}${msg.series ? ` [${msg.series}]` : ''}${msg.line ? ` line ${msg.line}` : ''}: ${msg.message}`;
    const list = $('invalid');
    list.prepend(li);
    while (list.children.length > 20) list.lastChild.remove();
  }

  // ---- socket -----------------------------------------------------------------------------------
  function onMessage(event) {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg.type in state.received) state.received[msg.type]++;
    switch (msg.type) {
      case 'forecast':
        append(msg.series, msg);
        break;
      case 'history': {
        const first = msg.forecasts[0];
        if (!first) break;
        state.series.set(msg.series, emptySeries(first.actual.length));
        addToPicker(msg.series);
        for (const rec of msg.forecasts) append(msg.series, rec);
        break;
      }
      case 'accuracy':
        showAccuracy(msg);
        break;
      case 'reset':
        clearSeries(msg.series);
        break;
      case 'invalid':
        showInvalid(msg);
        break;
      case 'error':
        setStatus('closed', `server: ${msg.code}: ${msg.message}`);
        break;
      default:
        break;
    }
  }

  let retryMs = 1000;
  function connect() {
    const q = new URLSearchParams();
    if (seriesParam) q.set('series', seriesParam);
    if (token) q.set('token', token);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const qs = q.toString();
    const ws = new WebSocket(`${proto}//${location.host}${base}forecasts${qs ? `?${qs}` : ''}`);
    state.socket = ws;
    ws.addEventListener('open', () => {
      retryMs = 1000;
      setStatus('open', 'live');
    });
    ws.addEventListener('message', onMessage);
    ws.addEventListener('close', (e) => {
      state.closeCode = e.code;
      const why = e.code === 4008 ? 'too slow to keep up' : e.code === 1006 ? 'connection failed (wrong or missing ?token=?)' : `closed (${e.code})`;
      setStatus('closed', `${why}; retrying in ${retryMs / 1000} s`);
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    });
  }

  fetch(`${base}healthz`).then((r) => r.json()).then((h) => {
    state.columns = h.model.columns;
    $('model').textContent = `model: GRU hidden ${h.model.hiddenSize} × ${h.model.numLayers} layer(s), columns ${h.model.columns.join(', ')}, transform ${h.model.transform}; gru-stream ${h.version}`;
  }).catch(() => {}).finally(connect);
})();
