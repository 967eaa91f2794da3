// The NDJSON fast path of `predict` against the object path (parser → predictor → writer): the same
// bytes out, the same 'invalid' events, for good lines, unusual-but-valid lines and bad ones.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { GruStreamError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import type { GruModel } from '../../src/model/model.js';
import { createFastPredict } from '../../src/stream/fast-ndjson.js';
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

async function objectPath(model: GruModel, input: Buffer[], options: PredictorOptions, withActual: boolean): Promise<Outcome> {
  const parser = createNdjsonParser();
  const predictor = createPredictor(model, options);
  const writer = createNdjsonWriter({ omit: withActual ? [] : ['actual'] });
  return collect([parser, predictor, writer], input, (invalid) => {
    const note = (e: GruStreamError) => invalid.push(`${e.code}: ${e.message}`);
    parser.on('invalid', note);
    predictor.on('invalid', note);
  });
}

async function fastPath(model: GruModel, input: Buffer[], options: PredictorOptions, withActual: boolean): Promise<Outcome> {
  const predictor = createPredictor(model, options);
  const fast = createFastPredict(predictor, { withActual });
  const outcome = await collect([fast], input, (invalid) => {
    const note = (e: GruStreamError) => invalid.push(`${e.code}: ${e.message}`);
    fast.on('invalid', note);
    predictor.on('invalid', note);
  });
  predictor.end();
  predictor.resume();
  return outcome;
}

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
  for (let i = 0; i < 400; i++) {
    const s = `s${Math.floor(rnd() * 23)}`;
    const r = rnd();
    if (r < 0.8 || !withBad) out.push(`{"series":"${s}","values":[${vals()}]}`);
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

describe('predict NDJSON fast path', () => {
  const models = trainedModels();

  it.each(models.map((m) => [m.name, m.modelPath] as const))('%s: byte-identical output and the same errors, good and bad lines, any chunking', async (_name, path) => {
    const model = await loadModel(path);
    for (const [seed, options, withActual, bad] of [
      [1, {}, false, false],
      [2, {}, true, true],
      [3, { onInvalid: 'output' }, false, true],
      [4, { horizon: 3, onInvalid: 'output', maxBatch: 16 }, true, true],
      [5, { workers: 1, maxBatch: 64 }, false, true],
    ] as const) {
      const bytes = Buffer.from(lines(model, seed, bad));
      const want = await objectPath(model, chunks(bytes, seed), options as PredictorOptions, withActual);
      const got = await fastPath(model, chunks(bytes, seed + 100), options as PredictorOptions, withActual);
      expect(got.error, `seed ${seed}`).toBe(want.error);
      // The same reports; the object path's interleaving of parser and predictor reports depends on
      // how chunks fall, so they are compared as sets (each source's own reports stay in line order).
      expect([...got.invalid].sort(), `seed ${seed}`).toEqual([...want.invalid].sort());
      expect(got.text, `seed ${seed}`).toBe(want.text);
      if (bad) expect(want.invalid.length).toBeGreaterThan(0);
      expect(want.text.split('\n').length).toBeGreaterThan(200);
    }
  });

  it("onInvalid 'fail' stops with the first bad sample's error, as the object path does", async () => {
    const model = await loadModel(models[0].modelPath);
    const bytes = Buffer.from(`${lines(model, 7, false)}{"series":"x","values":[]}\n${lines(model, 8, false)}`);
    const want = await objectPath(model, [bytes], { onInvalid: 'fail' }, false);
    const got = await fastPath(model, [bytes], { onInvalid: 'fail' }, false);
    expect(want.error).toMatch(/^ERR_INPUT_WIDTH: line 401:/);
    expect(got.error).toBe(want.error);
  });
});
