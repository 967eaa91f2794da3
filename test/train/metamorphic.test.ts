// Properties of gradients() and fitSteps() that hold whatever the weights.
import { describe, expect, it } from 'vitest';
import { availableKernels } from '../../src/kernel/select.js';
import { modelFromBytes } from '../../src/model/load-model.js';
import type { GruModel } from '../../src/model/model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { fitSteps } from '../../src/train/fit-steps.js';
import { gradients } from '../../src/train/gradients.js';
import { paramLayoutOf, flatParams } from '../../src/train/param-layout.js';
import { paramsToSafetensors } from '../../src/train/params-model.js';
import { randomModel, randomSequence, randomState } from '../model/random-model.js';

const [I, H, L, O, T, B, burnIn] = [2, 6, 2, 2, 10, 5, 2];

function model(variant: 'pytorch' | 'seed', seed: number, kernel: 'js' | 'native'): GruModel {
  const m = randomModel(variant, { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O }, seed, 2);
  return modelFromBytes(writeSafetensors(m.tensors, m.metadata), { kernel });
}

const input = randomSequence(1, T, B, I);
const target = randomSequence(2, T, B, O);
const h0 = randomState(3, L, B, H);
const rowsOf = (x: number[][][], order: number[]): number[][][] => x.map((step) => order.map((b) => step[b]));

const combos = (['pytorch', 'seed'] as const).flatMap((variant) => availableKernels().map((kernel) => [variant, kernel] as const));

describe.each(combos)('training metamorphic properties, %s variant, %s backend', (variant, kernel) => {
  const m = model(variant, 40, kernel);

  it('permuting batch rows permutes the per-row losses and leaves loss and gradient unchanged up to rounding', () => {
    const order = [3, 0, 4, 1, 2];
    const base = gradients(m, input, target, { burnIn, h0 });
    const perm = gradients(m, rowsOf(input, order), rowsOf(target, order), { burnIn, h0: rowsOf(h0, order) });
    expect(Math.abs(perm.loss - base.loss)).toBeLessThan(1e-12);
    for (const [name, g] of Object.entries(base.grads)) {
      const scale = Math.max(...g.map(Math.abs));
      g.forEach((v, i) => expect(Math.abs(perm.grads[name][i] - v), `${name}[${i}]`).toBeLessThanOrEqual(1e-6 * scale));
    }
    // Per-row losses (one row at a time) are the batch's contributions: they permute with the rows,
    // and their mean is the batch loss.
    const rowLoss = (b: number, x: number[][][], y: number[][][], h: number[][][]): number =>
      gradients(m, rowsOf(x, [b]), rowsOf(y, [b]), { burnIn, h0: rowsOf(h, [b]) }).loss;
    const base1 = order.map((_, b) => rowLoss(b, input, target, h0));
    const perm1 = order.map((_, b) => rowLoss(b, rowsOf(input, order), rowsOf(target, order), rowsOf(h0, order)));
    expect(perm1).toEqual(order.map((b) => base1[b]));
    expect(Math.abs(base1.reduce((a, v) => a + v, 0) / B - base.loss)).toBeLessThan(1e-12);
  });

  it('the batch gradient is the mean of the rows\' gradients', () => {
    const base = gradients(m, input, target, { burnIn, h0 });
    const rows = Array.from({ length: B }, (_, b) => gradients(m, rowsOf(input, [b]), rowsOf(target, [b]), { burnIn, h0: rowsOf(h0, [b]) }).grads);
    for (const [name, g] of Object.entries(base.grads)) {
      const scale = Math.max(...g.map(Math.abs));
      g.forEach((v, i) => {
        const mean = rows.reduce((a, r) => a + r[name][i], 0) / B;
        expect(Math.abs(mean - v), `${name}[${i}]`).toBeLessThanOrEqual(1e-6 * scale);
      });
    }
  });

  it('the training loss is the loss of the forecasts inference gives (bit for bit with the portable kernel)', () => {
    const { forecast } = m.forward(input, h0);
    let sum = 0;
    for (let t = burnIn; t < T; t++) for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) sum += (forecast![t][b][o] - target[t][b][o]) ** 2;
    const inferred = sum / ((T - burnIn) * B * O);
    const { loss } = gradients(m, input, target, { burnIn, h0 });
    // The native backend is the same maths in float32 products (no bit-for-bit promise with the native kernel's blocking).
    if (kernel === 'js') expect(loss).toBe(inferred);
    else expect(Math.abs(loss - inferred)).toBeLessThan(1e-6 * inferred);
  });

  it('fitSteps with steps: 0 changes nothing', () => {
    const { losses, model: same } = fitSteps(m, input, target, { steps: 0, lr: 0.1, burnIn, h0 });
    expect(losses).toEqual([]);
    expect(same).not.toBe(m);
    expect(same.stateDict()).toEqual(m.stateDict());
    expect(same.metadata).toEqual(m.metadata);
    expect(same.forward(input, h0)).toEqual(m.forward(input, h0));
  });

  it('gradients are bit-identical after a save/load round trip of the parameters', () => {
    const layout = paramLayoutOf(m);
    const again = modelFromBytes(paramsToSafetensors(layout, flatParams(m, layout), { ...m.metadata }), { kernel });
    expect(again.stateDict()).toEqual(m.stateDict());
    expect(gradients(again, input, target, { burnIn, h0 })).toEqual(gradients(m, input, target, { burnIn, h0 }));
  });

  it('gives the same numbers on every run', () => {
    expect(gradients(m, input, target, { burnIn, h0 })).toEqual(gradients(m, input, target, { burnIn, h0 }));
  });
});
