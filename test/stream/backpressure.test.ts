import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load-model.js';
import { createPredictor } from '../../src/stream/predictor.js';
import { trainedModels } from '../helpers/fixtures.js';

/** Resolve after `turns` event-loop turns in which `value()` did not change (a stall, not a sleep). */
async function settled(value: () => number, turns = 200): Promise<number> {
  let last = -1;
  let same = 0;
  while (same < turns) {
    await new Promise((r) => setImmediate(r));
    const now = value();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

describe('backpressure', () => {
  it.each([0, 2])('a stalled consumer stops the predictor reading its source (workers %i), then everything flows', async (workers) => {
    const model = await loadModel(trainedModels()[0].modelPath);
    const total = 20_000;
    let pulled = 0;
    const source = Readable.from((function* () {
      for (; pulled < total; ) {
        pulled++;
        yield { series: `s${pulled % 97}`, values: new Array(model.config.inputSize).fill(100 + (pulled % 13)) };
      }
    })(), { objectMode: true, highWaterMark: 8 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let received = 0;
    const slow = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(_rec, _enc, cb) {
        received++;
        if (received === 1) gate.then(() => cb());
        else cb();
      },
    });
    const predictor = createPredictor(model, { workers, maxBatch: 32, highWaterMark: 16 });
    const done = pipeline(source, predictor, slow);
    const stalledAt = await settled(() => pulled);
    // Bounded: the source's and the predictor's buffers plus two batches, nowhere near the whole input.
    expect(stalledAt).toBeLessThan(8 + 16 + 2 * 32 + 16 + 50);
    expect(predictor.writableNeedDrain || predictor.writableLength > 0 || predictor.readableLength >= predictor.readableHighWaterMark).toBe(true);
    release();
    await done;
    expect(received).toBe(total);
  });

  it('write() returns false and drain follows once the consumer reads', async () => {
    const model = await loadModel(trainedModels()[0].modelPath);
    const predictor = createPredictor(model, { highWaterMark: 4, maxBatch: 8 });
    let accepted = 0;
    const sample = (i: number) => ({ series: `s${i % 5}`, values: new Array(model.config.inputSize).fill(50 + i) });
    while (predictor.write(sample(accepted))) accepted++;
    expect(accepted).toBeLessThan(16);
    const drained = new Promise((r) => predictor.once('drain', r));
    predictor.resume();
    await drained;
    predictor.end();
    await new Promise((r) => predictor.on('end', r));
  });
});
