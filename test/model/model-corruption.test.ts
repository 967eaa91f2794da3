// Targeted corruptions of a valid model file, one per kind of damage, each pinned to its error code.
// The random counterpart is model-fuzz.test.ts.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GruStreamError } from '../../src/errors.js';
import { modelFromBytes } from '../../src/model/load-model.js';
import { type Tensor, writeSafetensors } from '../../src/model/safetensors.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GruStreamError);
    return (err as GruStreamError).code;
  }
  throw new Error('expected a GruStreamError, but the call succeeded');
}

const zeros = (shape: number[]): Tensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

describe('sizes inferred from tensor shapes', () => {
  // Regression: with no size metadata, zero-width tensors used to load as a GRU with
  // hidden_size 0 (or input_size 0) that silently produced empty outputs.
  it('refuses hidden_size 0 implied by [0, 0] tensors (ERR_MODEL_SHAPE)', () => {
    const file = writeSafetensors({ 'gru.weight_ih_l0': zeros([0, 3]), 'gru.weight_hh_l0': zeros([0, 0]), 'gru.bias_ih_l0': zeros([0]), 'gru.bias_hh_l0': zeros([0]) });
    expect(codeOf(() => modelFromBytes(file))).toBe(ErrorCodes.ERR_MODEL_SHAPE);
  });

  it('refuses input_size 0 implied by a [3H, 0] weight_ih (ERR_MODEL_SHAPE)', () => {
    const file = writeSafetensors({ 'gru.weight_ih_l0': zeros([6, 0]), 'gru.weight_hh_l0': zeros([6, 2]), 'gru.bias_ih_l0': zeros([6]), 'gru.bias_hh_l0': zeros([6]) });
    expect(codeOf(() => modelFromBytes(file))).toBe(ErrorCodes.ERR_MODEL_SHAPE);
  });
});
