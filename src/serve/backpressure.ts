import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * The one door every sample source goes through into the predictor, so they all honour its
 * backpressure the same way. When `write()` returns false, every /ingest socket is paused
 * (`ws.pause()` stops reading from the TCP socket, so a fast producer is slowed by TCP flow
 * control instead of filling our memory) until the predictor emits 'drain'; the replay awaits
 * `drained()`; a piped input file is handled by pipe() itself.
 *
 * hold()/release() close the door the same way while a checkpoint is cut: the predictor then
 * settles within a batch or two even under a steady stream of producers.
 */
export class WriteGate {
  private readonly sockets = new Set<WebSocket>();
  private blocked = false;
  /** The predictor's write() said false and it has not drained yet. */
  private full = false;
  private holds = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly target: Writable) {
    target.on('drain', () => {
      this.full = false;
      this.update();
    });
    // A closed target will never drain: release everyone waiting on it.
    target.on('close', () => {
      this.closed = true;
      this.open();
    });
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  get isClosed(): boolean {
    return this.closed || this.target.writableEnded || this.target.destroyed;
  }

  /** Writes one sample (or Marker); returns false when the caller should wait for `drained()`. */
  write(sample: object): boolean {
    if (this.isClosed) return false;
    if (!this.target.write(sample)) this.full = true;
    this.update();
    return !this.blocked;
  }

  /** Stop every source (until release()); what is already written still reaches the predictor. */
  hold(): void {
    this.holds++;
    this.update();
  }

  release(): void {
    this.holds--;
    this.update();
  }

  private update(): void {
    const block = this.full || this.holds > 0;
    if (block && !this.blocked) {
      this.blocked = true;
      for (const ws of this.sockets) ws.pause();
    } else if (!block && this.blocked) this.open();
  }

  /** Resolves when the predictor can take more (at once when it already can). */
  drained(): Promise<void> {
    if (!this.blocked || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** An /ingest socket to pause while the predictor is full; it starts paused if it is full now. */
  track(ws: WebSocket): void {
    this.sockets.add(ws);
    if (this.blocked) ws.pause();
    ws.once('close', () => this.sockets.delete(ws));
  }

  private open(): void {
    if (!this.blocked && this.waiters.length === 0) return;
    this.blocked = false;
    for (const ws of this.sockets) ws.resume();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
