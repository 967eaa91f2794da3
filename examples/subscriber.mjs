// Subscribe to live forecasts from a running `gru-stream serve` (e.g. `npm start`) and print them.
//
//   node examples/subscriber.mjs [URL] [SERIES] [COUNT]
//   node examples/subscriber.mjs ws://127.0.0.1:8080 sunspot_month 20
// With --token set on the server, put it in GRU_STREAM_TOKEN: it is sent as a Bearer header.
import WebSocket from 'ws';

const base = process.argv[2] ?? 'ws://127.0.0.1:8080';
const series = process.argv[3] ?? 'sunspot_month';
const count = Number(process.argv[4] ?? 20);
const token = process.env.GRU_STREAM_TOKEN;

const ws = new WebSocket(`${base.replace(/\/$/, '')}/forecasts?series=${encodeURIComponent(series)}`, {
  headers: token ? { Authorization: `Bearer ${token}` } : {},
});
let seen = 0;
ws.on('open', () => console.log(`connected: forecasts for ${series}`));
ws.on('unexpected-response', (_req, res) => {
  console.error(`refused: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (set GRU_STREAM_TOKEN)' : ''}`);
  process.exitCode = 1;
});
ws.on('error', (err) => {
  console.error(`cannot connect to ${base}: ${err.message}`);
  process.exitCode = 1;
});
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  switch (msg.type) {
    case 'history':
      console.log(`history: ${msg.forecasts.length} earlier forecasts for ${msg.series}`);
      break;
    case 'forecast':
      if (seen >= count) break; // already closing; messages in flight are ignored
      console.log(`${msg.series} t=${msg.t} actual=${msg.actual.join(',')} next=${msg.forecast ? msg.forecast.map((v) => v.toFixed(2)).join(',') : '-'}`);
      if (++seen >= count) ws.close();
      break;
    case 'accuracy':
      if (msg.n > 0) console.log(`accuracy ${msg.series}: n=${msg.n} MAE model ${msg.maeModel.toFixed(3)} vs persistence ${msg.maePersistence.toFixed(3)} -> ${msg.winner}`);
      break;
    case 'invalid':
    case 'error':
      console.log(`${msg.type}: ${msg.code} ${msg.message}`);
      break;
    default:
      break;
  }
});
ws.on('close', (code, reason) => {
  if (code === 4008) console.error(`closed by the server as too slow: ${reason}`);
});
