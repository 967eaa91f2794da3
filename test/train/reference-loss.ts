import type { RandomModel } from '../model/random-model.js';
import { referenceForward } from '../model/reference-gru.js';

/**
 * The training loss in float64 from the independent reference GRU (test/model/reference-gru.ts, which
 * shares no code with src/): mean over t >= burnIn, rows and outputs of (forecast - target)^2.
 */
export function referenceLoss(m: RandomModel, input: number[][][], target: number[][][], h0: number[][][] | null, burnIn: number): number {
  const forecast = referenceForward(m, input, h0).forecast!;
  let sum = 0;
  let count = 0;
  for (let t = burnIn; t < forecast.length; t++) {
    for (let b = 0; b < forecast[t].length; b++) {
      for (let o = 0; o < forecast[t][b].length; o++) {
        const e = forecast[t][b][o] - target[t][b][o];
        sum += e * e;
        count++;
      }
    }
  }
  return sum / count;
}

/**
 * Central finite differences of referenceLoss for every element of every tensor. Each perturbed
 * weight is a float32 (the tensors are Float32Array), so the step actually taken is computed from
 * the perturbed values rather than assumed.
 */
export function finiteDifferences(m: RandomModel, input: number[][][], target: number[][][], h0: number[][][] | null, burnIn: number, step = 1e-3): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [name, t] of Object.entries(m.tensors)) {
    const g = new Float64Array(t.data.length);
    for (let i = 0; i < t.data.length; i++) {
      const w = t.data[i];
      t.data[i] = w + step;
      const up = t.data[i];
      const lossUp = referenceLoss(m, input, target, h0, burnIn);
      t.data[i] = w - step;
      const down = t.data[i];
      const lossDown = referenceLoss(m, input, target, h0, burnIn);
      t.data[i] = w;
      g[i] = (lossUp - lossDown) / (up - down);
    }
    out[name] = g;
  }
  return out;
}
