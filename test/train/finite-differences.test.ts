// Gradients of random small models, both variants, 1-3 layers, with and without h0, burnIn > 0,
// against central finite differences of an independent float64 GRU (test/model/reference-gru.ts).
import { describe, expect, it } from 'vitest';
import { availableKernels } from '../../src/kernel/select.js';
import { modelFromBytes } from '../../src/model/load-model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { gradients } from '../../src/train/gradients.js';
import { randomModel, randomSequence, randomState } from '../model/random-model.js';
import { finiteDifferences, referenceLoss } from './reference-loss.js';

const CASES = [
  { variant: 'pytorch', layers: 1, h0: false, seed: 11 },
  { variant: 'pytorch', layers: 2, h0: true, seed: 12 },
  { variant: 'pytorch', layers: 3, h0: true, seed: 13 },
  { variant: 'seed', layers: 1, h0: true, seed: 21 },
  { variant: 'seed', layers: 2, h0: false, seed: 22 },
  { variant: 'seed', layers: 3, h0: true, seed: 23 },
] as const;

const [I, H, O, T, B, burnIn] = [2, 5, 2, 9, 3, 3];

/** Each case's model, data and finite differences, computed once and checked against every backend. */
const prepared = CASES.map((c) => {
  // Weights at twice PyTorch's init scale: gates reach well into their curved regions.
  const m = randomModel(c.variant, { inputSize: I, hiddenSize: H, numLayers: c.layers, outputSize: O }, c.seed, 2);
  const input = randomSequence(c.seed + 100, T, B, I);
  const target = randomSequence(c.seed + 200, T, B, O);
  const h0 = c.h0 ? randomState(c.seed + 300, c.layers, B, H) : null;
  let fd: Record<string, Float64Array> | null = null;
  const differences = (): Record<string, Float64Array> => (fd ??= finiteDifferences(m, input, target, h0, burnIn));
  return { name: `${c.variant} L=${c.layers} ${c.h0 ? 'with' : 'without'} h0`, m, input, target, h0, differences };
});

describe.each(availableKernels())('gradients equal finite differences of a float64 reference, %s backend', (kernel) => {
  it.each(prepared.map((p) => [p.name, p] as const))('%s', (_name, { m, input, target, h0, differences }) => {
    const model = modelFromBytes(writeSafetensors(m.tensors, m.metadata), { kernel });
    const { loss, grads } = gradients(model, input, target, { burnIn, h0 });
    expect(Math.abs(loss - referenceLoss(m, input, target, h0, burnIn))).toBeLessThan(2e-6 * loss);
    const fd = differences();
    expect(Object.keys(grads).sort()).toEqual(Object.keys(fd).sort());
    const scale = Math.max(...Object.values(fd).map((g) => Math.max(...g.map(Math.abs))));
    for (const [name, ref] of Object.entries(fd)) {
      for (let i = 0; i < ref.length; i++) {
        // Float32 states and weights against float64 differences: ~1e-6 of the largest gradient; a
        // wrong formula (a dropped term, a sign, a transposed index) is off by 1e-2 or more.
        expect(Math.abs(grads[name][i] - ref[i]), `${name}[${i}]`).toBeLessThan(2e-5 * scale + 1e-4 * Math.abs(ref[i]));
      }
    }
  });
});
