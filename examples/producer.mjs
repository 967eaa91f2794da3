// Push samples to a running `gru-stream serve` over WebSocket /ingest, in batches, each sent after
// the previous batch's ack: the server's acks are the producer's flow control.
//
//   node examples/producer.mjs [URL] [SERIES] [BATCHES]
//   node examples/producer.mjs ws://127.0.0.1:8080 demo-sine 10
// With --token set on the server, put it in GRU_STREAM_TOKEN.
import { once } from 'node:events';
import WebSocket from 'ws';

const base = process.argv[2] ?? 'ws://127.0.0.1:8080';
const series = process.argv[3] ?? 'demo-sine';
const batches = Number(process.argv[4] ?? 10);
const PER_BATCH = 50;
const token = process.env.GRU_STREAM_TOKEN;

const ws = new WebSocket(`${base.replace(/\/$/, '')}/ingest`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
ws.on('unexpected-response', (_req, res) => {
  console.error(`refused: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (set GRU_STREAM_TOKEN)' : ''}`);
  process.exit(1);
});
await once(ws, 'open');

const replies = [];
let wake = () => {};
ws.on('message', (data) => {
  replies.push(JSON.parse(data.toString()));
  wake();
});
async function nextAck() {
  for (;;) {
    const i = replies.findIndex((r) => r.type === 'ack');
    if (i >= 0) {
      for (const r of replies.splice(0, i)) console.error(`rejected: ${r.code} ${r.index ?? ''} ${r.message}`);
      return replies.splice(0, 1)[0];
    }
    await new Promise((resolve) => (wake = resolve));
  }
}

let t = 0;
let accepted = 0;
for (let b = 0; b < batches; b++) {
  const batch = Array.from({ length: PER_BATCH }, () => {
    t++;
    return { series, value: 80 + 60 * Math.sin(t / 25), t };
  });
  ws.send(JSON.stringify(batch));
  accepted += (await nextAck()).accepted;
}
console.log(`sent ${batches * PER_BATCH} samples of ${series}, accepted ${accepted}`);
ws.close();
