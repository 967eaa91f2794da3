// gru-stream live dashboard (browser side, no build step). Served at GET / by src/serve/dashboard.ts.
// One WebSocket to /forecasts; every message is one JSON object (see docs/serving.md):
//   history  -> replaces a series' points (sent on connect / subscribe, and again after a reconnect)
//   forecast -> appends a point: the actual value, and the forecast that was made for it one step earlier
//   accuracy -> the server's running MAE of the model and of persistence for a series
//   reset    -> the series starts over (replay loop): its points are dropped
//   invalid  -> a rejected sample or input line
// The page's own ?token= is forwarded to the socket (browsers cannot set an Authorization header on
// a WebSocket), and its ?series=a,b narrows the subscription.
(() => {
  'use strict';
  const MAX_POINTS = 500;
  const DEFAULT_CHARTS = 6;
  // Per column: [actual, forecast] colours, so the two lines are told apart without the legend.
  const COLORS = [['#1d4ed8', '#ea580c'], ['#047857', '#c026d3'], ['#7c3aed', '#ca8a04'], ['#0891b2', '#dc2626']];

  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const seriesParam = params.get('series');
  const base = location.pathname.replace(/[^/]*$/, '');

  /** Everything the page knows; exposed for debugging and for the headless-browser test. */
  const state = {
    columns: null,
    series: new Map(), // id -> { x, actual[c], forecastFor[c], count, lastT, lastActual, nextForecast }
    selected: new Set(),
    charts: new Map(), // id -> { u, el, last, dirty }
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

  function emptySeries(width) {
    return { width, x: [], actual: Array.from({ length: width }, () => []), forecastFor: Array.from({ length: width }, () => []), count: 0, lastT: null, lastActual: null, nextForecast: null };
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
    for (let c = 0; c < s.width; c++) {
      s.actual[c].push(rec.actual[c]);
      // The forecast drawn at a point is the one made for it, one step earlier: that is what is scored.
      s.forecastFor[c].push(s.nextForecast ? s.nextForecast[c] : null);
    }
    if (s.x.length > MAX_POINTS) {
      const drop = s.x.length - MAX_POINTS;
      s.x.splice(0, drop);
      for (let c = 0; c < s.width; c++) {
        s.actual[c].splice(0, drop);
        s.forecastFor[c].splice(0, drop);
      }
    }
    s.count++;
    s.lastT = rec.t;
    s.lastActual = rec.actual;
    s.nextForecast = rec.forecast;
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
      chart.u.destroy();
      chart.el.remove();
      state.charts.delete(id);
    }
  }

  // ---- charts -----------------------------------------------------------------------------------
  function ensureChart(id) {
    const s = state.series.get(id);
    if (!s || state.charts.has(id)) return;
    const el = document.createElement('div');
    el.className = 'chart';
    el.dataset.series = id;
    const title = document.createElement('h3');
    title.textContent = id;
    const last = document.createElement('div');
    last.className = 'last';
    el.append(title, last);
    $('charts').append(el);
    const cols = columnsFor(s.width);
    const series = [{ label: 't' }];
    cols.forEach((col, c) => {
      const [actual, forecast] = COLORS[c % COLORS.length];
      series.push({ label: `${col} actual`, stroke: actual, width: 1.5 });
      series.push({ label: `${col} forecast (made one step earlier)`, stroke: forecast, width: 1.25, dash: [5, 3] });
    });
    const width = Math.max(320, el.clientWidth - 16);
    // x is a plain number (decimal year, index, epoch seconds): no time axis, no thousands separators.
    const axes = [{ values: (_u, splits) => splits.map((v) => String(+v.toFixed(3))) }, {}];
    const u = new uPlot({ width, height: 260, scales: { x: { time: false } }, series, axes, legend: { live: true } }, chartData(s), el);
    state.charts.set(id, { u, el, last, dirty: true });
  }

  function chartData(s) {
    const data = [s.x];
    for (let c = 0; c < s.width; c++) data.push(s.actual[c], s.forecastFor[c]);
    return data;
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
      chart.u.setData(chartData(s));
      chart.el.dataset.points = String(s.x.length);
      chart.el.dataset.count = String(s.count);
      chart.el.dataset.lastActual = JSON.stringify(s.lastActual);
      chart.el.dataset.nextForecast = JSON.stringify(s.nextForecast);
      chart.last.textContent = `t = ${s.lastT}   actual ${s.lastActual ? s.lastActual.map(fmt).join(', ') : '–'}   next forecast ${s.nextForecast ? s.nextForecast.map(fmt).join(', ') : '–'}   (${s.count} samples, last ${s.x.length} drawn)`;
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
      for (let i = 0; i < 6; i++) row.append(document.createElement('td'));
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
