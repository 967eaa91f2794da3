// predict's NDJSON row path (NdjsonRows: native or portable scanner, native or JS formatter) against
// the object path (parser → predictor → writer): the same bytes out, the same 'invalid' events and
// counters, for good lines, unusual-but-valid lines, seq duplicates and bad ones, however chunked.
import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { GruStreamError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import type { GruModel } from '../../src/model/model.js';
import { NdjsonRows, type StartedRound } from '../../src/stream/ndjson-rows.js';
import { type NdjsonFormat, type NdjsonScan, ndjsonAddon, ndjsonFormat, ndjsonScan, portableScan } from '../../src/stream/ndjson-scan.js';
import { createNdjsonParser } from '../../src/stream/ndjson-parser.js';
import { createNdjsonWriter } from '../../src/stream/ndjson-writer.js';
import { createPredictor } from '../../src/stream/predictor.js';
import type { PredictorOptions } from '../../src/stream/predictor-options.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { trainedModels } from '../helpers/fixtures.js';

interface Outcome {
  text: string;
  invalid: string[];
  error: string | null;
  stats?: object;
  /** Worker threads replaced during the run (row path only). */
  workerRestarts?: number;
}

/** The input as chunks cut at random places (inside lines, numbers and multi-byte characters too). */
function chunks(bytes: Buffer, seed: number): Buffer[] {
  const rnd = seededRandom(seed);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(rnd() * 700);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

async function collect(stages: NodeJS.ReadWriteStream[], input: Buffer[], listen: (invalid: string[]) => void): Promise<Outcome> {
  let text = '';
  const invalid: string[] = [];
  listen(invalid);
  const sink = new Writable({ write(c, _e, cb) { text += c.toString(); cb(); } });
  const error = await pipeline(Readable.from(input), ...(stages as [NodeJS.ReadWriteStream]), sink).then(() => null, (e: GruStreamError) => `${e.code}: ${e.message}`);
  return { text, invalid, error };
}

const statsOf = ({ samplesIn, forecastsOut, rejected, duplicates, evicted }: ReturnType<ReturnType<typeof createPredictor>['stats']>) => ({ samplesIn, forecastsOut, rejected, duplicates, evicted });

async function objectPath(model: GruModel, input: Buffer[], options: PredictorOptions, withActual: boolean): Promise<Outcome> {
  // The predict job's object loop writes parse errors inline, so 'fail' stops on them too.
  const parser = createNdjsonParser({ rejections: 'inline' });
  const predictor = createPredictor(model, options);
  const writer = createNdjsonWriter({ omit: withActual ? [] : ['actual'] });
  const outcome = await collect([parser, predictor, writer], input, (invalid) => {
    predictor.on('invalid', (e: GruStreamError) => invalid.push(`${e.code}: ${e.message}`));
  });
  return { ...outcome, stats: statsOf(predictor.stats()) };
}

interface RowPath {
  scan: NdjsonScan;
  format: NdjsonFormat | null;
}

async function rowPath(model: GruModel, input: Buffer[], options: PredictorOptions, withActual: boolean, path: RowPath): Promise<Outcome> {
  const predictor = createPredictor(model, options);
  const invalid: string[] = [];
  predictor.on('invalid', (e: GruStreamError) => invalid.push(`${e.code}: ${e.message}`));
  const rows = new NdjsonRows(predictor, { withActual, ...path });
  let text = '';
  // As predict's row loop pipelines them: round k+1 is started (its last batch left stepping on a
  // worker, with a pool) before round k is finished, and a round may stay in flight across chunks.
  let inFlight: StartedRound | null = null;
  const settle = async () => {
    if (inFlight) text += (await rows.finish(inFlight)).toString();
    inFlight = null;
  };
  const drain = async () => {
    for (let round = rows.nextRound(); round !== null; round = rows.nextRound()) {
      const started = await rows.start(round);
      await settle();
      inFlight = started;
    }
  };
  for (const chunk of input) {
    rows.feed(chunk);
    await drain();
    if (rows.failure) break;
  }
  if (!rows.failure) {
    rows.end();
    await drain();
  }
  await settle();
  const stats = statsOf(predictor.stats());
  const workerRestarts = predictor.stats().workerRestarts;
  predictor.destroy();
  return { text, invalid, error: rows.failure ? `${rows.failure.code}: ${rows.failure.message}` : null, stats, workerRestarts };
}

const nativeBuilt = ndjsonAddon()?.scanNdjson !== undefined;
/** Every combination this machine can run: the portable ones always; the native ones when the addon is built. */
const rowPaths: Array<[string, RowPath]> = [
  ['portable scan, JS format', { scan: portableScan, format: null }],
  ...(nativeBuilt
    ? ([
        ['native scan, JS format', { scan: ndjsonScan(), format: null }],
        ['native scan, native format', { scan: ndjsonScan(), format: ndjsonFormat() }],
      ] as Array<[string, RowPath]>)
    : []),
];

/** Lines of the usual shape, with unusual and bad ones mixed in. */
function lines(model: GruModel, seed: number, withBad: boolean): string {
  const rnd = seededRandom(seed);
  const C = model.config.inputSize;
  const value = (): string => {
    const v = 1 + rnd() * 200;
    const pick = Math.floor(rnd() * 5);
    return pick === 0 ? String(Math.round(v)) : pick === 1 ? v.toFixed(2) : pick === 2 ? v.toExponential(6) : pick === 3 ? String(Math.fround(v)) : String(v);
  };
  const vals = () => Array.from({ length: C }, value).join(',');
  const out: string[] = [];
  const seqOf = new Map<string, number>();
  /** A seq for a third of the lines: mostly increasing per series, sometimes repeated or lower (a duplicate). */
  const seq = (s: string): string => {
    if (rnd() > 0.33) return '';
    const last = seqOf.get(s) ?? -1;
    const next = rnd() < 0.15 ? Math.max(0, last - Math.floor(rnd() * 2)) : last + 1 + Math.floor(rnd() * 3);
    seqOf.set(s, Math.max(last, next));
    return `,"seq":${next}`;
  };
  for (let i = 0; i < 400; i++) {
    const s = `s${Math.floor(rnd() * 23)}`;
    const r = rnd();
    if (r < 0.8 || !withBad) out.push(`{"series":"${s}","values":[${vals()}]${seq(s)}}`);
    else if (r < 0.82) out.push(`{"series":"${s}","values":[${vals()}],"t":${i}}`);
    else if (r < 0.84) out.push(`{"values":[${vals()}],"series":"${s}","t":"2024-01-0${i % 9}"}`);
    else if (r < 0.85) out.push(`{"series":"caf\\u00e9 ${s}","values":[${vals()}]}`);
    else if (r < 0.86) out.push(`  {"series" : "${s}", "values": [ ${vals()} ] }\r`);
    else if (r < 0.87) out.push(C === 1 ? `{"series":"${s}","value":${value()}}` : `{"series":"${s}","values":[${vals()}]}`);
    else if (r < 0.88) out.push(`{"series":"${s}","values":[${vals()},1]}`);
    else if (r < 0.89) out.push(`{"series":"${s}","values":[${vals().replace(/^[^,]*/, '1e999')}]}`);
    else if (r < 0.9) out.push(`{"series":"${s}","values":[${vals().replace(/^[^,]*/, '-3')}]}`);
    else if (r < 0.91) out.push(`{"series":"${s}","values":[${vals().replace(/^[^,]*/, '01')}]}`);
    else if (r < 0.92) out.push(`{"series":"","values":[${vals()}]}`);
    else if (r < 0.93) out.push(`{"series":"${s}","values":[${vals()}]`);
    else if (r < 0.94) out.push('[1,2,3]');
    else if (r < 0.95) out.push('');
    else if (r < 0.96) out.push(`{"series":"${s}","values":["${value()}"]}`);
    else if (r < 0.97) out.push(`{"series":"é${s}","values":[${vals()}]}`);
    else if (r < 0.98) out.push(`{"series":"${s}","values":[${vals()}],"t":null}`);
    else out.push(`{"series":"${s}","values":[-0,${vals()}]}`.replace('[-0,', C === 1 ? '[' : '[-0.0,'));
  }
  return `${out.join('\n')}\n`;
}

/** A fault injector that fires on every n-th shard it is asked about. */
function faultEvery(n: number): () => boolean {
  let shards = 0;
  return () => ++shards % n === 0;
}

function expectSame(got: Outcome, want: Outcome, label: string): void {
  expect(got.error, label).toBe(want.error);
  expect(got.invalid, label).toEqual(want.invalid);
  expect(got.text, label).toBe(want.text);
  expect(got.stats, label).toEqual(want.stats);
}

describe('predict NDJSON row path', () => {
  const models = trainedModels();

  it('the native scanner and formatter are built here (CI builds the addon)', () => {
    // The comparisons below cover the native pieces only when they load; CI must not skip them quietly.
    expect(nativeBuilt || process.env.GRU_STREAM_SKIP_NATIVE === '1').toBe(true);
    expect(rowPaths.length).toBe(nativeBuilt ? 3 : 1);
  });

  it.each(models.map((m) => [m.name, m.modelPath] as const))('%s: byte-identical output, errors and counters, good and bad lines, any chunking', async (_name, path) => {
    const model = await loadModel(path);
    for (const [seed, options, withActual, bad] of [
      [1, {}, false, false],
      [2, {}, true, true],
      [3, { onInvalid: 'output' }, false, true],
      [4, { horizon: 3, onInvalid: 'output', maxBatch: 16 }, true, true],
      [5, { workers: 1, maxBatch: 64 }, false, true],
      [6, { capacity: 8, horizon: 2 }, true, false],
      // Pipelined on workers: rounds of many batches, and evictions while a batch is in flight.
      [7, { workers: 1, capacity: 8, horizon: 2 }, true, true],
      [8, { workers: 2, onInvalid: 'output', horizon: 3 }, false, true],
      // A worker that dies on every fifth shard, rounds pipelined meanwhile: redone, nothing lost or doubled.
      [9, { workers: 1, maxBatch: 32, injectWorkerFault: faultEvery(5) }, false, true],
    ] as const) {
      const bytes = Buffer.from(lines(model, seed, bad));
      const want = await objectPath(model, chunks(bytes, seed), options as PredictorOptions, withActual);
      if (bad) expect(want.invalid.length).toBeGreaterThan(0);
      expect(want.text.split('\n').length).toBeGreaterThan(200);
      expect((want.stats as { duplicates: number }).duplicates).toBeGreaterThan(0);
      for (const [name, rowPathKind] of rowPaths) {
        const got = await rowPath(model, chunks(bytes, seed + 100), options as PredictorOptions, withActual, rowPathKind);
        expectSame(got, want, `seed ${seed}, ${name}`);
        if ('injectWorkerFault' in options) expect(got.workerRestarts, `seed ${seed}, ${name}`).toBeGreaterThan(0);
      }
    }
  });

  it('random bytes, mangled samples and valid ones give the same output as the object path (property)', async () => {
    const model = await loadModel(models[0].modelPath);
    const C = model.config.inputSize;
    const good = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.array(fc.double({ min: 0.5, max: 500, noNaN: true }), { minLength: C, maxLength: C }), fc.option(fc.nat({ max: 20 })))
      .map(([s, v, seq]) => `{"series":"s${s}","values":[${v.join(',')}]${seq === null ? '' : `,"seq":${seq}`}}`);
    // A valid line with a few bytes replaced: near misses of the sample shape.
    const mangled = fc.tuple(good, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }))
      .map(([line, edits]) => {
        const b = Buffer.from(line);
        for (const [at, byte] of edits) b[at % b.length] = byte === 10 ? 32 : byte;
        return b.toString('latin1');
      });
    const junk = fc.string({ unit: 'binary', maxLength: 40 }).map((t) => t.replaceAll('\n', ' '));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(good, good, mangled, junk), { minLength: 1, maxLength: 30 }), fc.constantFrom('report', 'output'), async (lineList, onInvalid) => {
        const bytes = Buffer.from(`${lineList.join('\n')}\n`, 'latin1');
        const want = await objectPath(model, [bytes], { onInvalid }, true);
        for (const [name, kind] of rowPaths) expectSame(await rowPath(model, chunks(bytes, lineList.length), { onInvalid }, true, kind), want, name);
      }),
      { numRuns: 150 },
    );
  });

  it("onInvalid 'fail' stops with the first bad line's error, after every record before it", async () => {
    const model = await loadModel(models[0].modelPath);
    for (const bad of ['{"series":"x","values":[]}', '{"series":"x",']) {
      const before = lines(model, 7, false);
      const bytes = Buffer.from(`${before}${bad}\n${lines(model, 8, false)}`);
      // The object path's error, and its records for the lines before the bad one.
      const { error } = await objectPath(model, [bytes], { onInvalid: 'fail' }, false);
      const { text } = await objectPath(model, [Buffer.from(before)], {}, false);
      expect(error).toMatch(/^ERR_(INPUT_WIDTH|PARSE): line 401:/);
      expect(text.split('\n').length).toBeGreaterThan(300);
      for (const [name, kind] of rowPaths) {
        const got = await rowPath(model, chunks(bytes, 9), { onInvalid: 'fail' }, false, kind);
        expect(got.error, name).toBe(error);
        expect(got.text, name).toBe(text);
      }
    }
  });

  it('a byte-order mark, an over-long line and a last line without a newline read as the object path reads them', async () => {
    const model = await loadModel(models[0].modelPath);
    const long = `{"series":"s1","values":[${'1,'.repeat(600_000)}1]}`;
    const text = `\uFEFF${lines(model, 11, false)}${long}\n${lines(model, 12, false)}{"series":"end","values":[${Array(model.config.inputSize).fill(2).join(',')}]}`;
    const bytes = Buffer.from(text);
    // 64 KiB pieces, and a first piece that cuts the byte-order mark in two.
    const pieces = [bytes.subarray(0, 2), ...Array.from({ length: Math.ceil((bytes.length - 2) / 65536) }, (_, k) => bytes.subarray(2 + k * 65536, 2 + (k + 1) * 65536))];
    for (const onInvalid of ['report', 'output'] as const) {
      const want = await objectPath(model, pieces, { onInvalid }, false);
      expect(want.invalid.some((m) => /longer than/.test(m))).toBe(true);
      expect(want.text).toMatch(/"series":"end"/);
      for (const [name, kind] of rowPaths) expectSame(await rowPath(model, pieces, { onInvalid }, false, kind), want, `${onInvalid}, ${name}`);
    }
  });
});
