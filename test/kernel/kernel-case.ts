// Random kernel cases shared by the native-kernel tests: a seeded model packed into the shared
// weight layout, and a live arena with more slots than the batch.
import fc from 'fast-check';
import type { KernelContext } from '../../src/kernel/kernel.js';
import { type GruShape, arenaLayout, sharedFloats } from '../../src/kernel/layout.js';
import { packWeights } from '../../src/model/pack-weights.js';
import { seededRandom } from '../../src/util/seeded-random.js';

export interface Case {
  shape: GruShape;
  batch: number;
  steps: number;
  seed: number;
}

export function uniform(n: number, scale: number, rand: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

/** A random model (PyTorch-like init, a bit wider so gates saturate sometimes) and a live arena. */
export function setup(c: Case): { ctx: KernelContext; rand: () => number } {
  const rand = seededRandom(c.seed);
  const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = c.shape;
  const k = 1.5 / Math.sqrt(H);
  const layers = Array.from({ length: L }, (_, l) => {
    const inSize = l === 0 ? I : H;
    return { weightIh: uniform(3 * H * inSize, k, rand), weightHh: uniform(3 * H * H, k, rand), biasIh: uniform(3 * H, k, rand), biasHh: uniform(3 * H, k, rand) };
  });
  const head = O > 0 ? { weight: uniform(O * H, k, rand), bias: uniform(O, k, rand) } : null;
  const packed = packWeights({ shape: c.shape, layers, head });
  // Room for more slots than the batch, so the rows are spread over a larger arena.
  const arena = arenaLayout(c.shape, 2 * c.batch + 3, c.batch, 1);
  const states = sharedFloats(arena.totalFloats);
  for (let s = 0; s < arena.totalSlots; s++) states.set(uniform(L * H, 1, rand), s * arena.slotStride);
  return { ctx: { weights: packed.data, layout: packed.layout, arena: states, arenaLayout: arena }, rand };
}

export function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function shape(inputSize: number, hiddenSize: number, numLayers: number, outputSize: number, resetAfter: boolean): GruShape {
  return { inputSize, hiddenSize, numLayers, outputSize, resetAfter };
}

/** Random cases: input 1-9, the given hidden sizes, 1-4 layers, 0-3 heads, both variants. */
export function caseArb(hiddenSize: fc.Arbitrary<number>, maxBatch: number, maxSteps: number): fc.Arbitrary<Case> {
  return fc
    .record({
      inputSize: fc.integer({ min: 1, max: 9 }),
      hiddenSize,
      numLayers: fc.integer({ min: 1, max: 4 }),
      outputSize: fc.integer({ min: 0, max: 3 }),
      resetAfter: fc.boolean(),
      batch: fc.integer({ min: 1, max: maxBatch }),
      steps: fc.integer({ min: 1, max: maxSteps }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    .map(({ batch, steps, seed, ...s }) => ({ shape: s, batch, steps, seed }));
}
