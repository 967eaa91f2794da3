/**
 * bench/intervals.mjs's I/O: real series through a real predictor (from dist/: npm run build first).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { modelFromBytes, parseSafetensors, writeSafetensors } from '../../dist/src/index.js';
import { createInputParser } from '../../dist/src/stream/open-input.js';
import { createPredictor } from '../../dist/src/stream/predictor.js';
import { validationResiduals } from './interval-metrics.mjs';

/** The samples of a CSV (the library's own parser), values mapped by `map` (e.g. a rescale). */
export async function readSamples(csvPath, columns, map = (v) => v, series = 's') {
  const samples = [];
  await pipeline(createReadStream(csvPath), createInputParser({ path: csvPath, columns, series }), new Writable({
    objectMode: true,
    write(s, _e, cb) {
      samples.push({ series, values: s.values.map(map) });
      cb();
    },
  }));
  return samples;
}

/** Every record a fresh predictor makes for `samples`. */
export async function runPredictor(model, samples, options) {
  const records = [];
  await pipeline(Readable.from(samples), createPredictor(model, options), new Writable({
    objectMode: true,
    write(r, _e, cb) {
      records.push(r);
      cb();
    },
  }));
  return records;
}

/**
 * A copy of the model file with `validation_residuals` metadata as `gru-stream train` writes it,
 * from the model's own forecasts of `samples` on rows [from, to).
 */
export async function withValidationResiduals(modelPath, model, samples, [from, to]) {
  const records = await runPredictor(model, samples.slice(0, to), {});
  const file = parseSafetensors(readFileSync(modelPath));
  const metadata = { ...file.metadata, validation_residuals: JSON.stringify(validationResiduals(records, model.config, [from, to])) };
  return modelFromBytes(writeSafetensors(Object.fromEntries(file.tensors), metadata));
}
