// The forward() contract: coded refusals of bad input, the h0 default, and the result shapes.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GruStreamError, InputError } from '../../src/errors.js';
import { modelFromBytes } from '../../src/model/load-model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { randomModel, randomSequence, randomState } from './random-model.js';
import { codeOf as sharedCodeOf } from '../helpers/error-code.js';

const I = 3;
const H = 5;
const L = 2;
const O = 4;
const m = randomModel('pytorch', { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O }, 7);
const model = modelFromBytes(writeSafetensors(m.tensors, m.metadata));
const noHead = randomModel('seed', { inputSize: I, hiddenSize: H, numLayers: L, outputSize: 0 }, 8);
const headless = modelFromBytes(writeSafetensors(noHead.tensors, noHead.metadata));
const T = 6;
const B = 3;
const input = randomSequence(1, T, B, I);
const zerosH0 = (): number[][][] => Array.from({ length: L }, () => Array.from({ length: B }, () => new Array<number>(H).fill(0)));

const codeOf = (fn: () => unknown): string => sharedCodeOf(InputError, fn);

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

describe('forward() refuses badly shaped arguments with ERR_INPUT_SHAPE', () => {
  const row = [0.1, 0.2, 0.3];
  it.each<[string, unknown]>([
    ['input that is not an array', 'x'],
    ['input null', null],
    ['an empty sequence (T = 0)', []],
    ['an empty batch (B = 0)', [[]]],
    ['a step that is not an array', [row]],
    ['a sample with too few values', [[[0.1, 0.2]]]],
    ['a sample with too many values', [[[0.1, 0.2, 0.3, 0.4]]]],
    ['a batch that changes size between steps', [[row, row], [row]]],
    ['a rank-2 input', [row, row]],
    ['a rank-4 input', [[[row]]]],
  ])('%s', (_name, bad) => {
    expect(codeOf(() => model.forward(bad as number[][][]))).toBe(ErrorCodes.ERR_INPUT_SHAPE);
  });

  it.each<[string, (h0: number[][][]) => unknown]>([
    ['h0 that is not an array', () => 0],
    ['h0 with too few layers', (h) => h.slice(1)],
    ['h0 with too many layers', (h) => [...h, h[0]]],
    ['h0 with a different batch than the input', (h) => h.map((l) => l.slice(1))],
    ['h0 with a short state vector', (h) => h.map((l) => l.map((v) => v.slice(1)))],
    ['h0 with a long state vector', (h) => h.map((l) => l.map((v) => [...v, 0]))],
    ['an empty h0', () => []],
  ])('%s', (_name, edit) => {
    expect(codeOf(() => model.forward(input, edit(zerosH0()) as number[][][]))).toBe(ErrorCodes.ERR_INPUT_SHAPE);
  });
});

describe('forward() refuses values that are not finite numbers with ERR_NON_FINITE', () => {
  it.each<[string, unknown]>([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['a numeric string', '1'], ['null', null], ['a bigint', 1n]])('%s in the input', (_name, v) => {
    const bad = structuredClone(input) as unknown[][][];
    bad[T - 1][B - 1][I - 1] = v;
    expect(codeOf(() => model.forward(bad as number[][][]))).toBe(ErrorCodes.ERR_NON_FINITE);
  });

  it.each([NaN, Infinity, -Infinity])('%s in h0', (v) => {
    const h0 = zerosH0();
    h0[L - 1][1][0] = v;
    expect(codeOf(() => model.forward(input, h0))).toBe(ErrorCodes.ERR_NON_FINITE);
  });
});

describe('forward() defaults and results', () => {
  it('h0 omitted, null and explicit zeros give identical results', () => {
    const omitted = model.forward(input);
    expect(model.forward(input, null)).toEqual(omitted);
    expect(model.forward(input, zerosH0())).toEqual(omitted);
  });

  it('a non-zero h0 changes the result (it is not ignored)', () => {
    expect(model.forward(input, randomState(2, L, B, H)).output).not.toEqual(model.forward(input).output);
  });

  it('returns output [T][B][H], hN [L][B][H] and forecast [T][B][O] of finite numbers', () => {
    const r = model.forward(input, randomState(3, L, B, H));
    const dims = (a: number[][][]): number[] => [a.length, a[0].length, a[0][0].length];
    expect(dims(r.output)).toEqual([T, B, H]);
    expect(dims(r.hN)).toEqual([L, B, H]);
    expect(dims(r.forecast!)).toEqual([T, B, O]);
    for (const a of [r.output, r.hN, r.forecast!]) {
      expect(a.every((t) => t.every((row) => row.length === a[0][0].length && row.every(Number.isFinite)))).toBe(true);
    }
  });

  it('the last output step is the top layer of hN', () => {
    const r = model.forward(input);
    expect(r.output[T - 1]).toEqual(r.hN[L - 1]);
  });

  it('a model without a head returns no forecast key', () => {
    const r = headless.forward(input);
    expect(r).not.toHaveProperty('forecast');
    expect([r.output.length, r.output[0].length, r.output[0][0].length]).toEqual([T, B, H]);
  });

  it('keeps no state between calls and does not modify its arguments', () => {
    const h0 = randomState(4, L, B, H);
    const [inputCopy, h0Copy] = [structuredClone(input), structuredClone(h0)];
    const first = model.forward(input, h0);
    expect(model.forward(input, h0)).toEqual(first);
    expect(input).toEqual(inputCopy);
    expect(h0).toEqual(h0Copy);
  });

  it('errors are InputErrors, also GruStreamErrors', () => {
    try {
      model.forward([[[NaN, 0, 0]]]);
    } catch (err) {
      expect(err).toBeInstanceOf(GruStreamError);
      return;
    }
    throw new Error('expected forward() to throw');
  });
});
