// Metamorphic and reference tests: properties that must hold whatever the weights, checked on every
// kernel this process can run. Golden parity with PyTorch lives in golden.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KernelName } from '../../src/kernel/kernel.js';
import { availableKernels } from '../../src/kernel/select.js';
import { modelFromBytes } from '../../src/model/load-model.js';
import type { GruModel } from '../../src/model/model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { maxAbsDiff } from '../helpers/fixtures.js';
import { type RandomModel, type Sizes, randomModel, randomSequence, randomState } from './random-model.js';
import { referenceForward } from './reference-gru.js';

/**
 * How far a batched row may drift from the same series run alone.
 * js: 0. Each row runs the identical sequence of float64 operations on its own slot and nothing is
 * reduced across rows, so batching cannot change a single bit. Any other kernel may give rows
 * different code paths (full SIMD lanes vs a scalar tail, FMA contraction), which changes rounding,
 * never the maths: 1e-6 is ~10x the float32 rounding observed on the golden cases.
 */
const BATCH_TOLERANCE: Record<KernelName, number> = { js: 0, native: 1e-6 };
/** The float64 reference vs a float32-state kernel; the fixtures README suggests 5e-6..1e-5. */
const REFERENCE_TOLERANCE = 1e-5;

function load(m: RandomModel, kernel: KernelName): GruModel {
  return modelFromBytes(writeSafetensors(m.tensors, m.metadata), { kernel });
}

const sizes = (inputSize: number, hiddenSize: number, numLayers: number, outputSize = 0): Sizes => ({ inputSize, hiddenSize, numLayers, outputSize });

/** Odd widths, H = 1, deep stacks, 3H just past a 16-float boundary: the shapes a layout bug hides in. */
const SEED_CASES: Array<[string, Sizes]> = [
  ['tutorial I=3 H=2', sizes(3, 2, 1)],
  ['H=1', sizes(1, 1, 1)],
  ['I=7 H=1 two layers', sizes(7, 1, 2)],
  ['multi-layer I=4 H=6 L=2', sizes(4, 6, 2)],
  ['4 layers I=5 H=11', sizes(5, 11, 4)],
  ['I=3 H=17 L=3 with head', sizes(3, 17, 3, 2)],
];
const PYTORCH_CASES: Array<[string, Sizes]> = [
  ['I=7 H=1', sizes(7, 1, 1)],
  ['I=7 H=1 head', sizes(7, 1, 1, 1)],
  ['I=3 H=17 L=4', sizes(3, 17, 4)],
  ['I=3 H=17 L=4 head O=3', sizes(3, 17, 4, 3)],
  ['I=1 H=1 L=1 head', sizes(1, 1, 1, 1)],
  ['I=16 H=33 L=2', sizes(16, 33, 2)],
  ['I=2 H=6 L=3 head O=5', sizes(2, 6, 3, 5)],
];

describe.each(availableKernels())('metamorphic properties, %s kernel', (kernel) => {
  const all = [...SEED_CASES.map(([n, s]) => ['seed', n, s] as const), ...PYTORCH_CASES.map(([n, s]) => ['pytorch', n, s] as const)];

  describe.each(all)('%s %s', (variant, _name, s) => {
    const m = randomModel(variant, s, s.inputSize * 1000 + s.hiddenSize * 10 + s.numLayers, 2);
    const model = load(m, kernel);
    const T = 7;
    const B = 5;
    const input = randomSequence(11, T, B, s.inputSize);
    const h0 = randomState(12, s.numLayers, B, s.hiddenSize);

    it('a batch of B series equals each series run alone', () => {
      const batched = model.forward(input, h0);
      for (let b = 0; b < B; b++) {
        const alone = model.forward(input.map((xt) => [xt[b]]), h0.map((hl) => [hl[b]]));
        expect(maxAbsDiff(alone.output, batched.output.map((ot) => [ot[b]]))).toBeLessThanOrEqual(BATCH_TOLERANCE[kernel]);
        expect(maxAbsDiff(alone.hN, batched.hN.map((hl) => [hl[b]]))).toBeLessThanOrEqual(BATCH_TOLERANCE[kernel]);
        if (s.outputSize > 0) expect(maxAbsDiff(alone.forecast, batched.forecast!.map((ft) => [ft[b]]))).toBeLessThanOrEqual(BATCH_TOLERANCE[kernel]);
      }
    });

    // Bit-identical on every kernel: the state lives in a float32 slot, hN hands back those exact
    // float32 values as doubles and h0 writes them back unchanged, so a step never sees a difference.
    it('stepping one sample at a time, carrying hN as h0, equals the whole sequence', () => {
      const whole = model.forward(input, h0);
      let h: number[][][] = h0;
      for (let t = 0; t < T; t++) {
        const one = model.forward([input[t]], h);
        expect(one.output[0]).toEqual(whole.output[t]);
        if (s.outputSize > 0) expect(one.forecast![0]).toEqual(whole.forecast![t]);
        h = one.hN;
      }
      expect(h).toEqual(whole.hN);
    });

    it('identical rows in a batch give identical outputs', () => {
      const row = input.map((xt) => xt[0]);
      const same = model.forward(row.map((x) => Array.from({ length: B }, () => x)));
      for (let b = 1; b < B; b++) {
        expect(maxAbsDiff(same.output.map((ot) => ot[b]), same.output.map((ot) => ot[0]))).toBeLessThanOrEqual(BATCH_TOLERANCE[kernel]);
        expect(maxAbsDiff(same.hN.map((hl) => hl[b]), same.hN.map((hl) => hl[0]))).toBeLessThanOrEqual(BATCH_TOLERANCE[kernel]);
      }
    });

    it('matches the float64 reference of the README equations within 1e-5 (with and without h0)', () => {
      for (const start of [h0, null]) {
        const got = model.forward(input, start);
        const want = referenceForward(m, input, start);
        expect(maxAbsDiff(got.output, want.output)).toBeLessThan(REFERENCE_TOLERANCE);
        expect(maxAbsDiff(got.hN, want.hN)).toBeLessThan(REFERENCE_TOLERANCE);
        if (s.outputSize > 0) expect(maxAbsDiff(got.forecast, want.forecast)).toBeLessThan(REFERENCE_TOLERANCE);
        else expect(got.forecast).toBeUndefined();
      }
    });
  });

  it('matches the float64 reference on random sizes, variants, lengths and batches', () => {
    const arbCase = fc.record({
      variant: fc.constantFrom('pytorch' as const, 'seed' as const),
      inputSize: fc.integer({ min: 1, max: 9 }),
      hiddenSize: fc.integer({ min: 1, max: 20 }),
      numLayers: fc.integer({ min: 1, max: 4 }),
      outputSize: fc.integer({ min: 0, max: 3 }),
      T: fc.integer({ min: 1, max: 6 }),
      B: fc.integer({ min: 1, max: 4 }),
      withH0: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(arbCase, (c) => {
        const m = randomModel(c.variant, c, c.seed, 3);
        const input = randomSequence(c.seed + 1, c.T, c.B, c.inputSize);
        const h0 = c.withH0 ? randomState(c.seed + 2, c.numLayers, c.B, c.hiddenSize) : null;
        const got = load(m, kernel).forward(input, h0);
        const want = referenceForward(m, input, h0);
        expect(maxAbsDiff(got.output, want.output)).toBeLessThan(REFERENCE_TOLERANCE);
        expect(maxAbsDiff(got.hN, want.hN)).toBeLessThan(REFERENCE_TOLERANCE);
        if (c.outputSize > 0) expect(maxAbsDiff(got.forecast, want.forecast)).toBeLessThan(REFERENCE_TOLERANCE);
      }),
      { numRuns: 200, seed: 20250611 },
    );
  });
});
