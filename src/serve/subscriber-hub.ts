import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { ErrorCodes, InputError } from '../errors.js';
import { CLOSE_SLOW_CONSUMER } from './close-codes.js';
import { SeriesHistory } from './history.js';
import type { SubscriberInfo } from './subscriber-info.js';

/**
 * Fan-out of forecast, accuracy and invalid-input messages to /forecasts subscribers, with the
 * slow-client policy. The predictor's output is consumed in flowing mode and handed here
 * synchronously, so nothing a subscriber does may block: a subscriber whose socket buffer
 * (`ws.bufferedAmount`) is above the high-water mark gets no more writes; instead it keeps only
 * the newest message per key (per series and type) in a small coalescing map, sent when its
 * buffer falls below half the mark. One still behind after `slowCloseMs` is closed with 4008.
 *
 *   predictor ──data──▶ hub.publish(key, json) ─┬─ caught up: ws.send(json)
 *                                               └─ behind:    pending.set(key, json)   (newest wins)
 *   sweep timer ── buffer < highWater/2 ──▶ send pending in update order ── behind > slowCloseMs ──▶ close(4008)
 *
 * Memory per subscriber is therefore bounded by the high-water mark plus one message per key.
 */
export interface HubOptions {
  highWaterBytes: number;
  slowCloseMs: number;
  history: number;
  historySeries: number;
  /** How often pending messages are retried; default 25 ms. */
  sweepMs?: number;
  /** Clock, injectable so policy timing is testable without sleeping. */
  now?: () => number;
}

interface Subscriber {
  id: number;
  ws: WebSocket;
  /** null = all series. */
  filter: Set<string> | null;
  /** Key (e.g. "f:series") -> newest serialized message; Map order = order of last update. */
  pending: Map<string, string>;
  behindSince: number;
  dropped: number;
  closing: boolean;
}

/** Hub events: 'dropped' (count), 'slow-close' (SubscriberInfo). */
export class SubscriberHub extends EventEmitter {
  private readonly subs = new Map<WebSocket, Subscriber>();
  private readonly history: SeriesHistory;
  /** Latest accuracy message per series, sent to new subscribers after the history. */
  private readonly accuracy = new Map<string, string>();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly now: () => number;
  private nextId = 1;
  private totalDropped = 0;
  private slowClosed = 0;

  constructor(private readonly options: HubOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.history = new SeriesHistory(options.history, options.historySeries);
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepMs ?? 25);
    this.sweepTimer.unref();
  }

  get size(): number {
    return this.subs.size;
  }

  stats(): { subscribers: number; dropped: number; slowClosed: number } {
    return { subscribers: this.subs.size, dropped: this.totalDropped, slowClosed: this.slowClosed };
  }

  subscribers(): SubscriberInfo[] {
    return [...this.subs.values()].map((s) => this.info(s));
  }

  add(ws: WebSocket, series: string[] | null): void {
    const sub: Subscriber = { id: this.nextId++, ws, filter: series ? new Set(series) : null, pending: new Map(), behindSince: 0, dropped: 0, closing: false };
    this.subs.set(ws, sub);
    this.sendSnapshot(sub, series ?? [...this.history.series()]);
  }

  remove(ws: WebSocket): void {
    this.subs.delete(ws);
  }

  /**
   * Adds series to a subscriber's filter (`null` = all series) and sends their history.
   * Returns the filter now in force (null = all). Throws ERR_MESSAGE past `maxSeries`.
   */
  subscribe(ws: WebSocket, series: string[] | null, maxSeries: number): string[] | null {
    const sub = this.subs.get(ws);
    if (!sub) return [];
    if (series === null) {
      const before = sub.filter;
      sub.filter = null;
      this.sendSnapshot(sub, [...this.history.series()].filter((s) => !before?.has(s)));
      return null;
    }
    if (sub.filter === null) return null;
    const added = series.filter((s) => !sub.filter!.has(s));
    if (sub.filter.size + added.length > maxSeries) {
      throw new InputError(ErrorCodes.ERR_MESSAGE, `at most ${maxSeries} series per subscription`);
    }
    for (const s of added) sub.filter.add(s);
    this.sendSnapshot(sub, added);
    return [...sub.filter];
  }

  /** Removes series from the filter (`null` = all of them); returns the filter now in force. */
  unsubscribe(ws: WebSocket, series: string[] | null): string[] | null {
    const sub = this.subs.get(ws);
    if (!sub) return [];
    if (series === null) {
      sub.filter = new Set();
      sub.pending.clear();
      return [];
    }
    // Unsubscribing from some series while subscribed to all leaves every other series known now.
    if (sub.filter === null) sub.filter = new Set(this.history.series());
    for (const s of series) {
      sub.filter.delete(s);
      for (const prefix of ['f:', 'a:', 'h:', 'r:']) sub.pending.delete(prefix + s);
    }
    return [...sub.filter];
  }

  /** A forecast record, already serialized once for every subscriber. */
  publishForecast(series: string, json: string): void {
    this.history.push(series, json);
    this.deliver(series, `f:${series}`, json);
  }

  publishAccuracy(series: string, json: string): void {
    this.accuracy.set(series, json);
    this.deliver(series, `a:${series}`, json);
  }

  /** Invalid-input reports go to subscribers of the series they name, or to everyone without one. */
  publishInvalid(series: string | undefined, json: string): void {
    this.deliver(series, 'i', json);
  }

  /** The predictor evicted this series' state: its history no longer continues, so drop it. */
  forgetSeries(series: string): void {
    this.history.delete(series);
    this.accuracy.delete(series);
  }

  /** The series starts over (replay loop): history and accuracy go, subscribers are told to clear it. */
  resetSeries(series: string, json: string): void {
    this.forgetSeries(series);
    this.deliver(series, `r:${series}`, json);
  }

  /** Sends `json` to one subscriber now, bypassing filters (replies to its own control messages). */
  reply(ws: WebSocket, key: string, json: string): void {
    const sub = this.subs.get(ws);
    if (sub) this.enqueue(sub, key, json);
  }

  close(code: number, reason: string): void {
    clearInterval(this.sweepTimer);
    for (const sub of this.subs.values()) sub.ws.close(code, reason);
    this.subs.clear();
  }

  private deliver(series: string | undefined, key: string, json: string): void {
    for (const sub of this.subs.values()) {
      if (series !== undefined && sub.filter !== null && !sub.filter.has(series)) continue;
      this.enqueue(sub, key, json);
    }
  }

  private sendSnapshot(sub: Subscriber, series: Iterable<string>): void {
    for (const s of series) {
      const history = this.history.message(s);
      if (history) this.enqueue(sub, `h:${s}`, history);
      const accuracy = this.accuracy.get(s);
      if (accuracy) this.enqueue(sub, `a:${s}`, accuracy);
    }
  }

  private enqueue(sub: Subscriber, key: string, json: string): void {
    if (sub.closing || sub.ws.readyState !== sub.ws.OPEN) return;
    if (sub.pending.size === 0 && sub.ws.bufferedAmount < this.options.highWaterBytes) {
      sub.ws.send(json);
      return;
    }
    if (sub.behindSince === 0) sub.behindSince = this.now();
    // delete-then-set moves the key to the end, so pending messages go out in the order of their
    // latest update: a series' history is never sent after a newer forecast of that series.
    if (sub.pending.delete(key)) this.countDrop(sub);
    sub.pending.set(key, json);
    this.checkSlow(sub);
  }

  private countDrop(sub: Subscriber): void {
    sub.dropped++;
    this.totalDropped++;
    this.emit('dropped', 1);
  }

  private checkSlow(sub: Subscriber): boolean {
    if (sub.behindSince !== 0 && this.now() - sub.behindSince > this.options.slowCloseMs) {
      this.closeSlow(sub);
      return true;
    }
    return false;
  }

  private closeSlow(sub: Subscriber): void {
    sub.closing = true;
    this.slowClosed++;
    const info = this.info(sub);
    this.subs.delete(sub.ws);
    // The close frame queues behind the unread data; a peer that never reads would hold the
    // socket for ws's 30 s closing timeout, so it is terminated sooner.
    sub.ws.close(CLOSE_SLOW_CONSUMER, 'ERR_SLOW_CONSUMER: subscriber too far behind');
    const ws = sub.ws;
    setTimeout(() => ws.terminate(), 5_000).unref();
    sub.pending.clear();
    this.emit('slow-close', info);
  }

  /** Flushes subscribers that have caught up; closes those behind for too long. */
  private sweep(): void {
    for (const sub of this.subs.values()) {
      if (sub.pending.size === 0) continue;
      if (sub.ws.readyState !== sub.ws.OPEN) {
        sub.pending.clear();
        continue;
      }
      if (sub.ws.bufferedAmount >= this.options.highWaterBytes / 2) {
        this.checkSlow(sub);
        continue;
      }
      for (const json of sub.pending.values()) sub.ws.send(json);
      sub.pending.clear();
      sub.behindSince = 0;
    }
  }

  private info(sub: Subscriber): SubscriberInfo {
    return {
      id: sub.id,
      series: sub.filter ? [...sub.filter] : null,
      bufferedAmount: sub.ws.bufferedAmount,
      pending: sub.pending.size,
      behindMs: sub.behindSince === 0 ? 0 : this.now() - sub.behindSince,
      dropped: sub.dropped,
    };
  }
}
