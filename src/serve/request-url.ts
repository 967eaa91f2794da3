import type { IncomingMessage } from 'node:http';

/** The request's URL, or undefined when it cannot be parsed (answered 400 / refused by the caller). */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}
