// A simulated fleet of temperature sensors piped through createPredictor with stream.pipeline,
// entirely in-process (no server). Each sensor is its own series with its own GRU state; the
// bundled monthly model is used only as a convenient one-column forecaster here, so read the
// printed accuracy as "how the plumbing behaves", not as a claim about sensors.
//
//   node examples/sensor-fleet.mjs [SENSORS] [STEPS]
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createPredictor, loadModel } from 'gru-stream';

const SENSORS = Number(process.argv[2] ?? 50);
const STEPS = Number(process.argv[3] ?? 200);
const modelPath = fileURLToPath(new URL('../assets/models/sunspot_gru.safetensors', import.meta.url));
const model = await loadModel(modelPath);

// Deterministic pseudo-random numbers, so every run prints the same thing.
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

/** STEPS rounds; each round every sensor reports once: a slow cycle plus noise, per sensor phase. */
function* readings() {
  const phase = Array.from({ length: SENSORS }, () => random() * 2 * Math.PI);
  for (let step = 0; step < STEPS; step++) {
    for (let s = 0; s < SENSORS; s++) {
      const value = 60 + 45 * Math.sin(step / 20 + phase[s]) + 8 * (random() - 0.5);
      yield { series: `sensor-${String(s).padStart(3, '0')}`, value, t: step };
    }
  }
}

// Running one-step-ahead MAE per sensor, model vs persistence, from the output records.
const last = new Map();
let n = 0;
let maeModel = 0;
let maePersistence = 0;
const score = new Writable({
  objectMode: true,
  write(record, _enc, callback) {
    const prev = last.get(record.series);
    if (prev?.forecast) {
      maeModel += Math.abs(prev.forecast[0] - record.actual[0]);
      maePersistence += Math.abs(prev.actual[0] - record.actual[0]);
      n++;
    }
    last.set(record.series, record);
    callback();
  },
});

const predictor = createPredictor(model);
// pipeline() wires backpressure end to end: the generator is only pulled as fast as the GRU steps.
await pipeline(Readable.from(readings()), predictor, score);

const stats = predictor.stats();
console.log(`sensors ${SENSORS}, samples ${stats.samplesIn}, forecasts ${stats.forecastsOut}, rejected ${stats.rejected}`);
console.log(`one-step MAE over ${n} scored steps: model ${(maeModel / n).toFixed(3)}, persistence ${(maePersistence / n).toFixed(3)}`);
