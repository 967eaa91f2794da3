import { arenaLayout, sharedFloats } from '../kernel/layout.js';
import { packWeights } from '../model/pack-weights.js';
import { createKernel } from '../kernel/select.js';
import type { TrainingData } from './data.js';
import type { Encoded, Split } from './encode.js';
import { type NetSize, paramsToTorchGru } from './params.js';

/** One-step forecasts of a model on the validation rows, scored the way `gru-stream predict` would make them. */
export interface Validation {
  /** Per column: mean absolute error in original units. */
  mae: number[];
  /** Mean squared error of the normalised forecasts (the training loss's units), over all columns. */
  mse: number;
  /** Per column: signed residuals actual - forecast, original units, validation rows of every series in order. */
  residuals: number[][];
  /** Per column: the same in normalised units (encoded target - head output). */
  residualsNormalised: number[][];
  /** Per series: [validation rows][columns] forecasts in original units (for plots). */
  forecasts: number[][][];
}

/**
 * Stream every series from a zero state through the model (the kernel `predict` uses, same float32
 * inputs) and score the forecasts whose target row is a validation row. All series step together, one
 * kernel row each; a series that has ended simply leaves the batch.
 */
export function validate(size: NetSize, params: Float32Array, data: TrainingData, enc: Encoded, split: Split): Validation {
  const C = data.columns.length;
  const S = data.series.length;
  const weights = packWeights(paramsToTorchGru(size, params));
  const arena = arenaLayout(weights.layout.shape, S, 0, 0);
  const kernel = createKernel({ weights: weights.data, layout: weights.layout, arena: sharedFloats(arena.totalFloats), arenaLayout: arena }, S);
  const slots = new Int32Array(S);
  const x = new Float32Array(S * C);
  const y = new Float32Array(S * C);
  const residuals = Array.from({ length: C }, () => [] as number[]);
  const residualsNormalised = Array.from({ length: C }, () => [] as number[]);
  const forecasts = data.series.map(() => [] as number[][]);
  const absSum = new Float64Array(C);
  let sqSum = 0;
  const steps = Math.max(...enc.inputs.map((v) => v.length / C));
  const order = Array.from({ length: S }, (_, i) => i);
  for (let j = 0; j < steps; j++) {
    let count = 0;
    for (const s of order) {
      if (j >= enc.inputs[s].length / C) continue;
      slots[count] = s;
      x.set(enc.inputs[s].subarray(j * C, j * C + C), count * C);
      count++;
    }
    kernel.step(count, slots, x, y);
    for (let b = 0; b < count; b++) {
      const s = slots[b];
      const series = data.series[s];
      const target = j + enc.offset + 1;
      if (target < split[s] || target >= series.rows) continue;
      const level = series.values.subarray((target - 1) * C, target * C);
      const f = enc.normaliser.decodeRow(y, b * C, C, level);
      forecasts[s].push(f);
      for (let c = 0; c < C; c++) {
        const actual = series.values[target * C + c];
        const rn = enc.inputs[s][(j + 1) * C + c] - y[b * C + c];
        residuals[c].push(actual - f[c]);
        residualsNormalised[c].push(rn);
        absSum[c] += Math.abs(actual - f[c]);
        sqSum += rn * rn;
      }
    }
  }
  const n = residuals[0].length;
  return { mae: Array.from(absSum, (v) => v / n), mse: sqSum / (n * C), residuals, residualsNormalised, forecasts };
}
