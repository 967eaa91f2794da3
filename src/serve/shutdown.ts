import type { Server } from 'node:http';
import type { ServePipeline } from './pipeline.js';
import type { ServeCheckpointer } from './checkpointer.js';
import type { Sources } from './sources.js';
import type { WebSocketEndpoints } from './websocket-endpoints.js';

export interface ServerParts {
  server: Server;
  pipeline: ServePipeline;
  endpoints: WebSocketEndpoints;
  sources: Sources;
  checkpointer: ServeCheckpointer | null;
}

/**
 * The handle's close(), idempotent. The order is the point:
 *  1. refuse new upgrades, then stop the sources, so nothing new enters the predictor; with
 *     --state-dir, take the last checkpoint now and send its durable acks while producers listen;
 *  2. close every WebSocket (1001) and the HTTP server;
 *  3. end the predictor, so samples already written are still forecast (nobody hears them now,
 *     but `events` listeners and the predictor's own stats do);
 *  4. resolve once the HTTP server has released its last socket.
 */
export function createShutdown({ server, pipeline, endpoints, sources, checkpointer }: ServerParts): () => Promise<void> {
  let closed: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    endpoints.refuseNew();
    await sources.stop();
    await checkpointer?.close();
    pipeline.stopTimers();
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await endpoints.close();
    await pipeline.end();
    await serverClosed;
  };
  return () => (closed ??= run());
}
