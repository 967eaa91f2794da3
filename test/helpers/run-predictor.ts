import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { GruStreamError } from '../../src/errors.js';
import type { GruModel } from '../../src/model/model.js';
import { type Predictor, createPredictor } from '../../src/stream/predictor.js';
import type { PredictorOptions } from '../../src/stream/predictor-options.js';
import { seededRandom } from '../../src/util/seeded-random.js';

export interface PredictorRun {
  outputs: Array<Record<string, unknown>>;
  invalid: GruStreamError[];
  evicted: string[];
  predictor: Predictor;
}

/** Pipe samples through a fresh predictor (real stream pipeline) and collect everything it says. */
export async function runPredictor(model: GruModel, samples: unknown[], options: PredictorOptions = {}, predictor = createPredictor(model, options)): Promise<PredictorRun> {
  const outputs: Array<Record<string, unknown>> = [];
  const invalid: GruStreamError[] = [];
  const evicted: string[] = [];
  predictor.on('invalid', (e) => invalid.push(e));
  predictor.on('evict', (e) => evicted.push(e.series));
  await pipeline(
    Readable.from(samples, { objectMode: true }),
    predictor,
    new Writable({ objectMode: true, write(rec, _enc, cb) { outputs.push(rec); cb(); } }),
  );
  return { outputs, invalid, evicted, predictor };
}

/** Interleaved samples for `series` ids, each a smooth random walk of `columns` positive values. */
export function interleavedSamples(seriesCount: number, steps: number, columns: number, seed = 1): Array<{ series: string; values: number[] }> {
  const rnd = seededRandom(seed);
  const level = Array.from({ length: seriesCount }, () => Array.from({ length: columns }, () => 50 + 50 * rnd()));
  const out: Array<{ series: string; values: number[] }> = [];
  for (let t = 0; t < steps; t++) {
    for (let s = 0; s < seriesCount; s++) {
      level[s] = level[s].map((v) => Math.max(1, v + (rnd() - 0.5) * 4));
      out.push({ series: `s${s}`, values: [...level[s]] });
    }
  }
  return out;
}
