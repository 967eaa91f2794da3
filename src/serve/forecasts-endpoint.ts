import type { RawData, WebSocket } from 'ws';
import { ErrorCodes, type GruStreamError, InputError, isGruStreamError } from '../errors.js';
import { MAX_SERIES_ID_LENGTH, isSeriesId } from '../state/series-id.js';
import type { SubscriberHub } from './subscriber-hub.js';

/**
 * The /forecasts endpoint: `?series=a,b` picks series at connect time (none = all); afterwards the
 * client may send {"type":"subscribe"|"unsubscribe","series":[...]} (no `series` = all series).
 * Each control message is answered with {"type":"subscribed","series":[...]|null} giving the
 * filter now in force (null = all), or {"type":"error","code","message"}.
 */

/** Bounds the per-subscriber filter; limits.forecastsMaxPayload is sized so a message naming this many full-length ids fits. */
export const MAX_SUBSCRIBED_SERIES = 1024;

export function seriesFromQuery(url: URL): string[] | null {
  const raw = url.searchParams.getAll('series').join(',');
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) return null;
  return checkSeriesList(list);
}

function checkSeriesList(list: unknown): string[] {
  if (!Array.isArray(list) || !list.every(isSeriesId)) {
    throw new InputError(ErrorCodes.ERR_MESSAGE, `"series" must be an array of non-empty strings of at most ${MAX_SERIES_ID_LENGTH} characters`);
  }
  if (list.length > MAX_SUBSCRIBED_SERIES) throw new InputError(ErrorCodes.ERR_MESSAGE, `at most ${MAX_SUBSCRIBED_SERIES} series per subscription`);
  return [...new Set(list as string[])];
}

function errorJson(err: GruStreamError): string {
  return JSON.stringify({ type: 'error', code: err.code, message: err.message });
}

export function handleForecastsConnection(ws: WebSocket, url: URL, hub: SubscriberHub): void {
  let series: string[] | null;
  let queryError: GruStreamError | undefined;
  try {
    series = seriesFromQuery(url);
  } catch (err) {
    // Answered after the handshake, with an empty filter, so the reason reaches browsers too
    // (an HTTP 400 on upgrade is opaque to a browser's WebSocket).
    series = [];
    queryError = err as GruStreamError;
  }
  hub.add(ws, series);
  if (queryError) hub.reply(ws, 'e', errorJson(queryError));
  ws.on('message', (data: RawData, isBinary: boolean) => {
    try {
      if (isBinary) throw new InputError(ErrorCodes.ERR_MESSAGE, 'binary messages are not accepted; send JSON text');
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch (e) {
        throw new InputError(ErrorCodes.ERR_PARSE, `message is not valid JSON: ${(e as Error).message}`);
      }
      const m = msg as { type?: unknown; series?: unknown };
      if (typeof msg !== 'object' || msg === null || (m.type !== 'subscribe' && m.type !== 'unsubscribe')) {
        throw new InputError(ErrorCodes.ERR_MESSAGE, 'expected {"type":"subscribe"|"unsubscribe","series":[...]}');
      }
      const list = m.series === undefined ? null : checkSeriesList(m.series);
      const filter = m.type === 'subscribe' ? hub.subscribe(ws, list, MAX_SUBSCRIBED_SERIES) : hub.unsubscribe(ws, list);
      hub.reply(ws, 's', JSON.stringify({ type: 'subscribed', series: filter }));
    } catch (err) {
      if (!isGruStreamError(err)) throw err;
      hub.reply(ws, 'e', errorJson(err));
    }
  });
}
