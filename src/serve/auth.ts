import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Bearer-token check for WebSocket upgrades. Browsers cannot set headers on `new WebSocket()`,
 * so the token is also accepted as `?token=` (the dashboard forwards its own `?token=`).
 */
export function tokenFromRequest(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer +(.+?) *$/i.exec(header);
    if (match) return match[1];
  }
  return url.searchParams.get('token') ?? undefined;
}

/**
 * Compares digests rather than the strings so the comparison takes the same time whatever the
 * length or content of the guess (timingSafeEqual itself requires equal lengths).
 */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

export function isAuthorized(expected: string | undefined, req: IncomingMessage, url: URL): boolean {
  return expected === undefined || tokenMatches(expected, tokenFromRequest(req, url));
}

/**
 * Answers an upgrade request with a plain HTTP error and drops the socket, before any WebSocket
 * handshake: the client never gets a connection, so nothing it sends is ever read.
 */
export function refuseUpgrade(socket: Duplex, status: 400 | 401 | 404 | 503, message: string): void {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' }[status];
  const body = `${JSON.stringify({ error: message })}\n`;
  const extra = status === 401 ? 'WWW-Authenticate: Bearer realm="gru-stream"\r\n' : '';
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  // end() flushes the answer, then the socket goes; a peer that never reads it is dropped anyway.
  socket.once('finish', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  setTimeout(() => socket.destroy(), 5_000).unref();
}
