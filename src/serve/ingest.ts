import type { RawData, WebSocket } from 'ws';
import { ErrorCodes, type GruStreamError, InputError, isGruStreamError } from '../errors.js';
import { Marker } from '../stream/marker.js';
import type { ScannedSample } from '../stream/ndjson-scan.js';
import type { CheckedSample } from '../stream/sample.js';
import type { WriteGate } from './backpressure.js';

/**
 * The /ingest endpoint: producers send one JSON sample, or a JSON array of samples, per text
 * message. Each sample is checked with the predictor's own validation before it is written, so
 * a bad sample is answered to the producer that sent it, by index, and the good ones in the same
 * message still go through. A message of samples of the usual shape is read by the native scanner
 * (ndjson_scan.cc's scanMessage) instead of JSON.parse; any other message by JSON.parse: the samples
 * then checked are the same objects either way.
 *
 * Messages are numbered per connection, 1, 2, 3, ...; `upTo` N in a reply means "every sample of
 * this connection's messages 1..N":
 *   {"type":"error","code","message","index"?,"series"?,"line"?}   one per rejected sample, or one
 *                                                                for a message that is not JSON/text
 *   {"type":"ack","upTo":N,"accepted":n,"rejected":m}            message N's samples are applied
 *                                                                (stepped, or dropped as duplicates)
 *   {"type":"durable","upTo":N}                                  a checkpoint (--state-dir) holds
 *                                                                messages 1..N
 * Acks come in message order. A producer that keeps the messages after its last `durable` upTo
 * and resends them after a crash (on a new connection, numbered from 1 again) loses nothing, and
 * with per-series `seq` applies nothing twice.
 */
export interface IngestContext {
  /** Throws a coded InputError for a sample the predictor would reject. */
  check(raw: unknown): CheckedSample;
  /** The native message reader (null without the addon, or to force JSON.parse). */
  scan: ((message: Buffer) => { samples: ScannedSample[]; batch: boolean } | null) | null;
  gate: WriteGate;
  /** Counts an accepted sample (metrics). */
  accepted(count: number): void;
  /** Counts and reports (to subscribers) one rejected sample or message. */
  rejected(err: GruStreamError): void;
  /** Open connections, for durable acks. */
  sessions: Set<IngestSession>;
}

/** One /ingest connection's numbering. */
export interface IngestSession {
  ws: WebSocket;
  /** Messages received so far (the last one's number). */
  received: number;
  /** Highest message number whose samples are all applied. */
  applied: number;
  /** Highest upTo sent in a 'durable' reply. */
  durable: number;
}

/** The token of the Marker written after a message's samples. */
export interface AckToken {
  session: IngestSession;
  upTo: number;
  accepted: number;
  rejected: number;
}

export function isAckToken(token: unknown): token is AckToken {
  return typeof token === 'object' && token !== null && 'session' in token && 'upTo' in token;
}

/** The predictor applied everything up to the marker: acknowledge the message. */
export function ackApplied(token: AckToken): void {
  token.session.applied = token.upTo;
  send(token.session.ws, { type: 'ack', upTo: token.upTo, accepted: token.accepted, rejected: token.rejected });
}

/** A checkpoint holds this session's messages 1..upTo. */
export function ackDurable(session: IngestSession, upTo: number): void {
  if (upTo <= session.durable) return;
  session.durable = upTo;
  send(session.ws, { type: 'durable', upTo });
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
  const session: IngestSession = { ws, received: 0, applied: 0, durable: 0 };
  ctx.sessions.add(session);
  ws.once('close', () => ctx.sessions.delete(session));
  /** The ack travels through the predictor behind the message's samples, so it means "applied". */
  const ack = (accepted: number, rejected: number): void => {
    ctx.gate.write(new Marker({ session, upTo: session.received, accepted, rejected } satisfies AckToken));
  };
  ws.on('message', (data: RawData, isBinary: boolean) => {
    session.received++;
    if (isBinary) {
      const err = new InputError(ErrorCodes.ERR_MESSAGE, 'binary messages are not accepted; send JSON text');
      ctx.rejected(err);
      send(ws, errorReply(err));
      ack(0, 1);
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const scanned = ctx.scan?.(bytes) ?? null;
    let parsed: unknown;
    if (!scanned) {
      try {
        // ws has already checked that a text message is valid UTF-8 (it closes with 1007 otherwise).
        parsed = JSON.parse(bytes.toString());
      } catch (e) {
        const err = new InputError(ErrorCodes.ERR_PARSE, `message is not valid JSON: ${(e as Error).message}`);
        ctx.rejected(err);
        send(ws, errorReply(err));
        ack(0, 1);
        return;
      }
    }
    const batch = scanned ? scanned.batch : Array.isArray(parsed);
    const items: unknown[] = scanned ? scanned.samples : batch ? (parsed as unknown[]) : [parsed];
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
      const out: Record<string, unknown> = { series: sample.series, values: sample.values };
      if (sample.t !== undefined) out.t = sample.t;
      if (sample.seq !== undefined) out.seq = sample.seq;
      ctx.gate.write(out);
      accepted++;
    }
    if (accepted > 0) ctx.accepted(accepted);
    ack(accepted, rejected);
  });
}
