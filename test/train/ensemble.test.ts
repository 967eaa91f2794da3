// An average of k GRU + Linear forecasters shipped as one wider nn.GRU: the merged file's forecasts
// equal the members' mean forecast (float32 rounding of the sums only), for several layers and columns.
import { describe, expect, it } from 'vitest';
import { modelFromBytes } from '../../src/model/load-model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { mergeEnsemble } from '../../src/train/ensemble.js';
import { type NetSize, initParams, paramTensors } from '../../src/train/params.js';
import { normalFrom, seededRandom } from '../../src/util/seeded-random.js';

function forecasts(size: NetSize, params: Float32Array, input: number[][][]): number[][][] {
  const model = modelFromBytes(writeSafetensors(paramTensors(size, params), { format: 'gru-forecaster' }), { kernel: 'js' });
  return model.forward(input).forecast!;
}

describe('mergeEnsemble', () => {
  it.each([
    [1, 2, 1, 4],
    [2, 5, 2, 2],
    [3, 4, 3, 3],
  ])('I=O=%i, H=%i, L=%i, k=%i: one GRU of k*H forecasts the members\' mean', (C, H, L, k) => {
    const size: NetSize = { inputSize: C, hiddenSize: H, numLayers: L, outputSize: C };
    // Weights 3x PyTorch's init scale so that gates are far from linear.
    const members = Array.from({ length: k }, (_, m) => initParams(size, 100 + m).map((v) => v * 3));
    const rnd = seededRandom(9);
    const input = Array.from({ length: 25 }, () => Array.from({ length: 2 }, () => Array.from({ length: C }, () => Math.fround(normalFrom(rnd)))));
    const each = members.map((p) => forecasts(size, p, input));
    const merged = mergeEnsemble(size, members);
    expect(merged.size).toEqual({ ...size, hiddenSize: k * H });
    const got = forecasts(merged.size, merged.params, input);
    let worst = 0;
    for (let t = 0; t < input.length; t++) {
      for (let b = 0; b < 2; b++) {
        for (let c = 0; c < C; c++) {
          const mean = each.reduce((a, f) => a + f[t][b][c], 0) / k;
          worst = Math.max(worst, Math.abs(got[t][b][c] - mean));
        }
      }
    }
    expect(worst).toBeLessThan(2e-6);
    // And it is not trivially so: the members disagree by far more than that.
    expect(Math.abs(each[0][10][0][0] - each[k - 1][10][0][0])).toBeGreaterThan(1e-3);
  });
});
