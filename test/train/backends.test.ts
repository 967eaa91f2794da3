// The two GruBackprop backends (portable TypeScript, AVX2/FMA native) against each other, engine
// reuse across batch sizes, determinism, and the fallback when the addon is missing.
import { afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { InputError, OptionError } from '../../src/errors.js';
import { weightLayout } from '../../src/kernel/layout.js';
import { nativeAddonPath } from '../../src/kernel/native-kernel.js';
import { availableKernels } from '../../src/kernel/select.js';
import { GruBackprop } from '../../src/train/backprop.js';
import { trainDescriptor } from '../../src/train/native-backprop.js';
import { paramLayout } from '../../src/train/param-layout.js';
import { codeOf } from '../helpers/error-code.js';
import { seededRandom } from '../model/random-model.js';

const kernels = availableKernels();

function randomArray(seed: number, length: number, scale = 1): Float32Array {
  const rng = seededRandom(seed);
  return Float32Array.from({ length }, () => scale * (2 * rng() - 1));
}

/** Odd hidden sizes (vector tails), deep stacks, wide inputs and outputs, both variants. */
const SHAPES = [
  { variant: 'pytorch', inputSize: 1, hiddenSize: 32, numLayers: 1, outputSize: 1 },
  { variant: 'pytorch', inputSize: 3, hiddenSize: 13, numLayers: 3, outputSize: 2 },
  { variant: 'seed', inputSize: 5, hiddenSize: 17, numLayers: 2, outputSize: 3 },
  { variant: 'seed', inputSize: 2, hiddenSize: 1, numLayers: 1, outputSize: 1 },
] as const;

function batchFor(seed: number, shape: (typeof SHAPES)[number], T: number, rows: number) {
  const layout = paramLayout(shape);
  const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = shape;
  return {
    layout,
    params: randomArray(seed, layout.totalFloats, 1.5 / Math.sqrt(H)),
    input: randomArray(seed + 1, T * rows * I),
    target: randomArray(seed + 2, T * rows * O),
    h0: randomArray(seed + 3, L * rows * H),
  };
}

describe('GruBackprop backends', () => {
  afterEach(() => {
    delete process.env.GRU_STREAM_NATIVE_PATH;
  });

  it.each(SHAPES.map((s) => [`${s.variant} I=${s.inputSize} H=${s.hiddenSize} L=${s.numLayers} O=${s.outputSize}`, s] as const))('%s: every backend agrees with the portable one', (_name, shape) => {
    const [T, rows] = [11, 6];
    const d = batchFor(7, shape, T, rows);
    const results = kernels.map((backend) => {
      const grad = new Float32Array(d.layout.totalFloats);
      const loss = new GruBackprop(d.layout, T, rows, { backend }).lossAndGradient(d.params, d.input, d.target, d.h0, 2, grad);
      return { loss, grad };
    });
    const js = results[kernels.indexOf('js')];
    const scale = Math.max(...js.grad.map(Math.abs));
    for (const r of results) {
      expect(Math.abs(r.loss - js.loss)).toBeLessThan(1e-6 * js.loss);
      r.grad.forEach((v, i) => expect(Math.abs(v - js.grad[i]), `[${i}]`).toBeLessThan(1e-5 * scale + 1e-4 * Math.abs(js.grad[i])));
    }
  });

  it.each(kernels)('%s: an engine reused across batch sizes gives what a fresh one gives, bit for bit, on every run', (backend) => {
    const shape = SHAPES[1];
    const T = 9;
    const big = new GruBackprop(paramLayout(shape), T, 8, { backend });
    for (const rows of [8, 3, 1, 8]) {
      const d = batchFor(rows, shape, T, rows);
      const a = new Float32Array(d.layout.totalFloats);
      const b = new Float32Array(d.layout.totalFloats);
      const lossA = big.lossAndGradient(d.params, d.input, d.target, d.h0, 1, a, rows);
      const lossB = new GruBackprop(d.layout, T, rows, { backend }).lossAndGradient(d.params, d.input, d.target, d.h0, 1, b);
      expect(lossA).toBe(lossB);
      expect(a).toEqual(b);
      const again = new Float32Array(d.layout.totalFloats);
      expect(big.lossAndGradient(d.params, d.input, d.target, d.h0, 1, again, rows)).toBe(lossA);
      expect(again).toEqual(a);
    }
  });

  it('falls back to the portable backend when the addon is missing, and refuses to pretend when native is demanded', () => {
    process.env.GRU_STREAM_NATIVE_PATH = '/nonexistent/gru_stream_native.node';
    const layout = paramLayout(SHAPES[0]);
    expect(new GruBackprop(layout, 4, 2).backend).toBe('js');
    expect(codeOf(OptionError, () => new GruBackprop(layout, 4, 2, { backend: 'native' }))).toBe('ERR_OPTION');
  });

  it('rejects a call whose arrays or row count do not fit the engine', () => {
    const d = batchFor(1, SHAPES[0], 4, 2);
    const bp = new GruBackprop(d.layout, 4, 2);
    const grad = new Float32Array(d.layout.totalFloats);
    expect(codeOf(OptionError, () => bp.lossAndGradient(d.params, d.input, d.target, null, 0, grad, 3))).toBe('ERR_OPTION');
    expect(codeOf(InputError, () => bp.lossAndGradient(d.params, d.input.subarray(1), d.target, null, 0, grad))).toBe('ERR_INPUT_SHAPE');
    expect(codeOf(OptionError, () => bp.lossAndGradient(d.params, d.input, d.target, null, 4, grad))).toBe('ERR_OPTION');
  });

  it.skipIf(!kernels.includes('native'))('the addon refuses a descriptor it cannot follow (ERR_KERNEL), by field name', () => {
    const addon = createRequire(import.meta.url)(nativeAddonPath()) as { createTrainer: (d: unknown) => unknown };
    const weights = weightLayout(paramLayout(SHAPES[1]).shape);
    const good = trainDescriptor(weights, 5, 4);
    expect(typeof addon.createTrainer(good)).toBe('function');
    const H = weights.shape.hiddenSize;
    const bad = [
      { ...good, gates: { r: H, z: 0, n: 2 * H } },
      { ...good, steps: undefined },
      { ...good, head: null },
      { ...good, weightFloats: good.head!.w },
      { ...good, layers: good.layers.slice(1) },
    ];
    for (const desc of bad) {
      expect(() => addon.createTrainer(desc)).toThrow(expect.objectContaining({ code: 'ERR_KERNEL' }));
    }
  });
});
