// The diff+zscore transform: x = (v - v_prev - mean) / std; a forecast made after sample v is
// v + std * y + mean. Pinned on the Normaliser directly and on the predictor's output, which is
// checked against model.forward() run on inputs encoded here by hand.
import { describe, expect, it } from 'vitest';
import { modelFromBytes } from '../../src/model/load-model.js';
import { Normaliser } from '../../src/model/normaliser.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { runPredictor } from '../helpers/run-predictor.js';
import { randomModel } from './random-model.js';

const config = { transform: 'diff+zscore' as const, normMean: [0.5, -2], normStd: [2, 4] };

describe('diff+zscore', () => {
  it('encodes the difference from the previous values, z-scored per column', () => {
    const n = new Normaliser(config);
    const x = new Float32Array(2);
    expect(n.encode([10, 10], new Float64Array(2), 0, false, x, 0)).toBe(false);
    expect(n.encode([10, 3], Float64Array.of(7, 1), 0, true, x, 0)).toBe(true);
    expect(Array.from(x)).toEqual([(10 - 7 - 0.5) / 2, (3 - 1 + 2) / 4]);
  });

  it('decodes a forecast as the last level plus the de-normalised difference, and accepts non-positive levels', () => {
    const n = new Normaliser(config);
    expect(n.decodeRow(Float32Array.of(0.25, -1), 0, 2, [10, -3])).toEqual([10 + 0.25 * 2 + 0.5, -3 + -1 * 4 - 2]);
    expect(n.rejectValue(-5)).toBeNull();
    expect(n.rejectValue(0)).toBeNull();
    // A path feeds each decoded level into the next step.
    const path = n.decodePath(Float32Array.of(1, 0, 1, 0), 0, 2, 2, [0, 0]);
    expect(path).toEqual([[2.5, -2], [5, -4]]);
  });

  it('the predictor skips the first sample, then forecasts v + std * forward(x) + mean', async () => {
    const m = randomModel('pytorch', { inputSize: 1, hiddenSize: 6, numLayers: 2, outputSize: 1 }, 41);
    const metadata = { ...m.metadata, columns: 'level', transform: 'diff+zscore', norm_mean: '0.3', norm_std: '1.7' };
    const model = modelFromBytes(writeSafetensors(m.tensors, metadata), { kernel: 'js' });
    const values = Array.from({ length: 30 }, (_, t) => 20 + 5 * Math.sin(t / 3) - t * 0.4);
    const { outputs, invalid } = await runPredictor(model, values.map((v) => ({ series: 'a', value: v })));
    expect(invalid).toEqual([]);
    expect(outputs).toHaveLength(values.length);
    expect(outputs[0].forecast).toBeNull();
    const input = values.slice(1).map((v, t) => [[Math.fround((v - values[t] - 0.3) / 1.7)]]);
    const { forecast } = model.forward(input);
    for (let t = 1; t < values.length; t++) {
      const want = values[t] + forecast![t - 1][0][0] * 1.7 + 0.3;
      expect((outputs[t].forecast as number[])[0]).toBeCloseTo(want, 9);
    }
  });
});
