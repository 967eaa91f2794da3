// Shared by test/serve/*.test.ts: real servers on port 0, real ws clients, real CSV files.
// Everything here waits on events (messages, acks, closes), never on timers.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { type ServeHandle, type ServeOptions, serve } from '../../src/serve/server.js';

export type Message = Record<string, any>;

/** A ws client that records every JSON message and lets a test wait for a condition on them. */
export class Client {
  readonly messages: Message[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private readonly waiters = new Set<() => void>();
  private readonly counts = new Map<string, number>();
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const msg: Message = isBinary ? { type: '<binary>' } : JSON.parse(data.toString());
      this.messages.push(msg);
      this.counts.set(msg.type, (this.counts.get(msg.type) ?? 0) + 1);
      if (typeof msg.series === 'string') this.counts.set(`${msg.type}|${msg.series}`, (this.counts.get(`${msg.type}|${msg.series}`) ?? 0) + 1);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve(code);
      });
    });
    ws.on('error', () => {});
  }

  /** Messages of a type (and series) so far, counted as they arrive (cheap inside until()). */
  count(type: string, series?: string): number {
    return this.counts.get(series === undefined ? type : `${type}|${series}`) ?? 0;
  }

  of(type: string, series?: string): Message[] {
    return this.messages.filter((m) => m.type === type && (series === undefined || m.series === series));
  }

  /** Resolves once `predicate()` holds, re-checked after every message (rejects if the socket closes first). */
  until(predicate: () => boolean, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate()) {
          this.waiters.delete(check);
          resolve();
        } else if (this.closeCode !== undefined) {
          this.waiters.delete(check);
          reject(new Error(`socket closed (${this.closeCode} ${this.closeReason}) before ${what}; ${this.messages.length} messages`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  close(): Promise<number> {
    if (this.closeCode === undefined) this.ws.close();
    return this.closed;
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}

export async function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(url, options);
  const client = new Client(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode })));
    ws.once('error', reject);
  });
  return client;
}

/** Status code of a refused upgrade (or 101 when it was accepted). */
export function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options);
    ws.on('error', () => {});
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
  });
}

export function wsUrl(handle: ServeHandle, path: string): string {
  return `${handle.url.replace(/^http/, 'ws').replace(/\/$/, '')}${path}`;
}

export async function startServer(options: ServeOptions): Promise<ServeHandle> {
  return serve({ port: 0, host: '127.0.0.1', ...options });
}

export interface CsvTable {
  header: string[];
  rows: string[][];
}

export function readCsv(path: string): CsvTable {
  const [head, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  return { header: head.split(','), rows: lines.map((l) => l.split(',')) };
}

/** The CSV's rows as samples for `series`, values in the model's columns order, t from `time`. */
export function csvSamples(table: CsvTable, columns: string[], series: string): Array<{ series: string; values: number[]; t: number }> {
  const idx = columns.map((c) => table.header.indexOf(c));
  const tIdx = table.header.indexOf('time');
  return table.rows.map((r) => ({ series, values: idx.map((i) => Number(r[i])), t: Number(r[tIdx]) }));
}

/**
 * Sends samples to /ingest in messages of `perMessage`, one at a time, each after the previous
 * message's ack: the producer is flow-controlled by the server, as examples/producer.mjs is.
 */
export async function ingestAll(producer: Client, samples: unknown[], perMessage = 200): Promise<{ accepted: number; rejected: number }> {
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < samples.length; i += perMessage) {
    const acksBefore = producer.count('ack');
    producer.send(samples.slice(i, i + perMessage));
    await producer.until(() => producer.count('ack') > acksBefore, 'ack');
    const ack = producer.of('ack')[acksBefore];
    accepted += ack.accepted;
    rejected += ack.rejected;
  }
  return { accepted, rejected };
}

/** Minimal Prometheus text-format parser: every sample line must parse, or it throws. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): { samples: PromSample[]; types: Map<string, string>; helps: Map<string, string> } {
  const samples: PromSample[] = [];
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      (m[1] === 'HELP' ? helps : types).set(m[2], m[3]);
      continue;
    }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = re.exec(m[2])) !== null) {
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        consumed = re.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`bad label set in ${JSON.stringify(line)}`);
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types, helps };
}

export async function scrape(handle: ServeHandle): Promise<ReturnType<typeof parsePrometheus> & { contentType: string | null }> {
  const res = await fetch(`${handle.url}metrics`);
  return { ...parsePrometheus(await res.text()), contentType: res.headers.get('content-type') };
}

/** The value of one sample, by name and (a subset of) labels; undefined when absent. */
export function metric(samples: PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

export { once };
