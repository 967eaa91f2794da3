// The forward() contract: coded refusals of bad input, the h0 default, and the result shapes.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GruStreamError, InputError } from '../../src/errors.js';
import { modelFromBytes } from '../../src/model/load-model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { randomModel } from './random-model.js';

const I = 3;
const H = 5;
const L = 2;
const O = 4;
const m = randomModel('pytorch', { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O }, 7);
const model = modelFromBytes(writeSafetensors(m.tensors, m.metadata));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as GruStreamError).code;
  }
  throw new Error('expected an InputError, but the call succeeded');
}

describe('forward() refuses values float32 cannot hold', () => {
  // Regression: 1e39 passed Number.isFinite, became Infinity in the float32 kernel input and came
  // out as NaN state. It is now refused like Infinity.
  it('an input beyond float32 range is ERR_NON_FINITE', () => {
    expect(codeOf(() => model.forward([[[1e39, 0, 0]]]))).toBe(ErrorCodes.ERR_NON_FINITE);
    expect(codeOf(() => model.forward([[[0, -1e39, 0]]]))).toBe(ErrorCodes.ERR_NON_FINITE);
  });

  it('an h0 value beyond float32 range is ERR_NON_FINITE', () => {
    const h0 = Array.from({ length: L }, () => [new Array<number>(H).fill(0)]);
    h0[1][0][2] = 1e39;
    expect(codeOf(() => model.forward([[[0, 0, 0]]], h0))).toBe(ErrorCodes.ERR_NON_FINITE);
  });

  it('the largest float32 itself is accepted and gives a finite state', () => {
    const r = model.forward([[[3.4028234663852886e38, 0, 0]]]);
    expect(r.output.flat(2).every(Number.isFinite)).toBe(true);
  });
});
