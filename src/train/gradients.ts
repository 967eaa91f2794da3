import type { GruModel } from '../model/model.js';
import { GruBackprop } from './backprop.js';
import { flatBatch } from './batch-input.js';
import { flatParams, paramLayoutOf, splitParams } from './param-layout.js';

export interface GradientsOptions {
  /** Steps at the start of every row that warm the state up and are left out of the loss (default 0). */
  burnIn?: number;
  /** [L][B][H] initial states; zeros when omitted. */
  h0?: number[][][] | null;
}

export interface GradientsResult {
  /** Mean over t >= burnIn, rows and outputs of (forecast - target)^2. */
  loss: number;
  /** d loss / d parameter for every tensor of the model, under its state_dict name, row-major. */
  grads: Record<string, Float32Array>;
}

/**
 * The loss of `model` on one batch and its exact gradient (backpropagation through time).
 * input [T][B][I], target [T][B][O]: target[t][b] is what the head should forecast after input[t][b].
 * Throws coded errors (ERR_INPUT_SHAPE, ERR_NON_FINITE, ERR_OPTION, ERR_MODEL_SHAPE without a head).
 */
export function gradients(model: GruModel, input: number[][][], target: number[][][], options: GradientsOptions = {}): GradientsResult {
  const batch = flatBatch(model, input, target, options.h0, options.burnIn);
  const layout = paramLayoutOf(model);
  const engine = new GruBackprop(layout, batch.steps, batch.rows, { backend: model.kernelPreference });
  const grad = new Float32Array(layout.totalFloats);
  const loss = engine.lossAndGradient(flatParams(model, layout), batch.input, batch.target, batch.h0, batch.burnIn, grad);
  const grads: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(splitParams(layout, grad))) grads[name] = t.values;
  return { loss, grads };
}
