import type { RawData, WebSocket } from 'ws';
import { ErrorCodes, type GruStreamError, InputError, isGruStreamError } from '../errors.js';
import type { CheckedSample } from '../stream/sample.js';
import type { WriteGate } from './backpressure.js';

/**
 * The /ingest endpoint: producers send one JSON sample, or a JSON array of samples, per text
 * message. Each sample is checked with the predictor's own validation before it is written, so
 * a bad sample is answered to the producer that sent it, by index, and the good ones in the same
 * message still go through. After every message the producer gets one `ack`.
 *
 * Replies: {"type":"error","code","message","index"?,"series"?,"line"?}   (one per rejected sample,
 *          or one for the whole message when it is not JSON / not text)
 *          {"type":"ack","accepted":n,"rejected":m}
 */
export interface IngestContext {
  /** Throws a coded InputError for a sample the predictor would reject. */
  check(raw: unknown): CheckedSample;
  gate: WriteGate;
  /** Counts an accepted sample (metrics). */
  accepted(count: number): void;
  /** Counts and reports (to subscribers) one rejected sample or message. */
  rejected(err: GruStreamError): void;
}

function send(ws: WebSocket, message: object): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

function errorReply(err: GruStreamError, index?: number): object {
  const { code, message, details } = err;
  return { type: 'error', code, message, ...(index === undefined ? {} : { index }), ...(details.series === undefined ? {} : { series: details.series }), ...(details.line === undefined ? {} : { line: details.line }) };
}

export function handleIngestConnection(ws: WebSocket, ctx: IngestContext): void {
  ctx.gate.track(ws);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      const err = new InputError(ErrorCodes.ERR_MESSAGE, 'binary messages are not accepted; send JSON text');
      ctx.rejected(err);
      send(ws, errorReply(err));
      send(ws, { type: 'ack', accepted: 0, rejected: 1 });
      return;
    }
    let parsed: unknown;
    try {
      // ws has already checked that a text message is valid UTF-8 (it closes with 1007 otherwise).
      parsed = JSON.parse(data.toString());
    } catch (e) {
      const err = new InputError(ErrorCodes.ERR_PARSE, `message is not valid JSON: ${(e as Error).message}`);
      ctx.rejected(err);
      send(ws, errorReply(err));
      send(ws, { type: 'ack', accepted: 0, rejected: 1 });
      return;
    }
    const batch = Array.isArray(parsed);
    const items: unknown[] = batch ? (parsed as unknown[]) : [parsed];
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < items.length; i++) {
      let sample: CheckedSample;
      try {
        sample = ctx.check(items[i]);
      } catch (err) {
        if (!isGruStreamError(err)) throw err;
        rejected++;
        ctx.rejected(err);
        send(ws, errorReply(err, batch ? i : undefined));
        continue;
      }
      // The whole message is written even when the predictor reports it is full: its size is
      // bounded by maxPayload, and the gate stops reading further messages until 'drain'.
      ctx.gate.write(sample.t === undefined ? { series: sample.series, values: sample.values } : { series: sample.series, values: sample.values, t: sample.t });
      accepted++;
    }
    if (accepted > 0) ctx.accepted(accepted);
    send(ws, { type: 'ack', accepted, rejected });
  });
}
