import { ErrorCodes, ModelError, OptionError } from '../errors.js';
import { checkTensor3 } from '../model/model.js';
import type { GruModel } from '../model/model.js';

/** A validated batch for gradients() and fitSteps(), flattened row-major for GruBackprop. */
export interface FlatBatch {
  steps: number;
  rows: number;
  input: Float32Array;
  target: Float32Array;
  h0: Float32Array | null;
  burnIn: number;
}

function flatten(value: number[][][], T: number, B: number, W: number): Float32Array {
  const out = new Float32Array(T * B * W);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) out.set(value[t][b], (t * B + b) * W);
  return out;
}

/**
 * Checks input [T][B][I], target [T][B][O], h0 [L][B][H] (optional) and burnIn (integer, 0 <= burnIn < T)
 * once, at the library boundary, with coded errors that name the argument and position.
 */
export function flatBatch(model: GruModel, input: unknown, target: unknown, h0: unknown, burnIn: unknown): FlatBatch {
  const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = model.config;
  if (O === 0) throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, 'training needs a model with a head (head.weight, head.bias): the loss is on its forecasts');
  const [T, B] = checkTensor3(input, 'input', [null, null, I]);
  checkTensor3(target, 'target', [T, B, O]);
  if (h0 !== undefined && h0 !== null) checkTensor3(h0, 'h0', [L, B, H]);
  const burn = burnIn ?? 0;
  if (!Number.isInteger(burn) || (burn as number) < 0 || (burn as number) >= T) {
    throw new OptionError(`options.burnIn must be an integer in [0, ${T - 1}] (the input has ${T} steps), got ${String(burnIn)}`, { option: 'burnIn' });
  }
  return {
    steps: T,
    rows: B,
    input: flatten(input as number[][][], T, B, I),
    target: flatten(target as number[][][], T, B, O),
    h0: h0 ? flatten(h0 as number[][][], L, B, H) : null,
    burnIn: burn as number,
  };
}

