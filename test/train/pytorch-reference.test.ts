// Gradients and Adam steps against PyTorch 1.13 autograd and torch.optim.Adam: the cases in
// fixtures/grad, made by fixtures/gen_grad.py (see test/fixtures/README.md). Cases are found by
// listing the directory, so GRU_STREAM_FIXTURES can point at unseen ones of the same format.
import { describe, expect, it } from 'vitest';
import { availableKernels } from '../../src/kernel/select.js';
import { loadModel } from '../../src/model/load-model.js';
import { fitSteps } from '../../src/train/fit-steps.js';
import { gradients } from '../../src/train/gradients.js';
import { gradCases } from '../helpers/fixtures.js';

const cases = gradCases();

/** Largest |a - ref| - (abs + rel * |ref|) over all elements: <= 0 means within tolerance. */
function excess(a: ArrayLike<number>, ref: ArrayLike<number>, abs: number, rel: number): number {
  expect(a.length).toBe(ref.length);
  let worst = -Infinity;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(a[i] - ref[i]) - (abs + rel * Math.abs(ref[i])));
  return worst;
}

describe.each(availableKernels())('training against PyTorch, %s backend', (kernel) => {
  it('finds the reference cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(3);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: loss and every gradient within 1e-6 + 1e-4·|ref|', async (_name, c) => {
    const model = await loadModel(c.modelPath, { kernel });
    const { loss, grads } = gradients(model, c.input, c.target, { burnIn: c.config.burn_in, h0: c.h0 });
    expect(excess([loss], [c.loss], 1e-6, 1e-4)).toBeLessThanOrEqual(0);
    expect(Object.keys(grads).sort()).toEqual(Object.keys(c.grad).sort());
    let norm = 0;
    for (const [name, ref] of Object.entries(c.grad)) {
      expect(grads[name]).toBeInstanceOf(Float32Array);
      expect(excess(grads[name], ref.values, 1e-6, 1e-4), name).toBeLessThanOrEqual(0);
      for (const v of grads[name]) norm += v * v;
    }
    expect(excess([Math.sqrt(norm)], [c.grad_total_norm], 1e-6, 1e-4)).toBeLessThanOrEqual(0);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: Adam steps after clip_grad_norm_ give the same losses and parameters', async (_name, c) => {
    const model = await loadModel(c.modelPath, { kernel });
    const a = c.adam;
    const before = model.stateDict();
    const { losses, model: after } = fitSteps(model, c.input, c.target, {
      steps: a.steps,
      lr: a.lr,
      betas: a.betas,
      eps: a.eps,
      weightDecay: a.weight_decay,
      clipGradNorm: a.clip_grad_norm,
      burnIn: c.config.burn_in,
      h0: c.h0,
    });
    expect(losses).toHaveLength(a.steps);
    expect(excess(losses, a.losses_before_each_step, 1e-6, 1e-4)).toBeLessThanOrEqual(0);
    const state = after.stateDict();
    expect(Object.keys(state).sort()).toEqual(Object.keys(a.params_after).sort());
    for (const [name, ref] of Object.entries(a.params_after)) {
      expect(state[name].shape).toEqual(ref.shape);
      expect(excess(state[name].values, ref.values, 1e-5, 1e-4), name).toBeLessThanOrEqual(0);
    }
    // The input model is unchanged.
    expect(model.stateDict()).toEqual(before);
  });
});
