// fitSteps' optimiser against an independent float64 transcription of torch.optim.Adam (1.13) and
// clip_grad_norm_, with weight decay and a clip that really engages (the PyTorch cases use neither).
import { describe, expect, it } from 'vitest';
import { modelFromBytes } from '../../src/model/load-model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { Adam } from '../../src/train/adam.js';
import { clipGradNorm } from '../../src/train/clip-grad-norm.js';
import { fitSteps } from '../../src/train/fit-steps.js';
import { gradients } from '../../src/train/gradients.js';
import { randomModel, randomSequence } from '../model/random-model.js';

interface RefAdam {
  m: Map<string, Float64Array>;
  v: Map<string, Float64Array>;
  step: number;
}

/** torch: clip_grad_norm_ over all parameters, then Adam with L2 weight decay and bias corrections. */
function referenceStep(params: Record<string, Float32Array>, grads: Record<string, Float32Array>, s: RefAdam, o: { lr: number; b1: number; b2: number; eps: number; wd: number; clip: number }): void {
  let sq = 0;
  for (const g of Object.values(grads)) for (const v of g) sq += v * v;
  const coef = Math.min(1, o.clip / (Math.sqrt(sq) + 1e-6));
  s.step++;
  for (const [name, p] of Object.entries(params)) {
    const m = s.m.get(name) ?? new Float64Array(p.length);
    const v = s.v.get(name) ?? new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const g = grads[name][i] * coef + o.wd * p[i];
      m[i] = o.b1 * m[i] + (1 - o.b1) * g;
      v[i] = o.b2 * v[i] + (1 - o.b2) * g * g;
      const mHat = m[i] / (1 - o.b1 ** s.step);
      const vHat = v[i] / (1 - o.b2 ** s.step);
      p[i] = p[i] - (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
    s.m.set(name, m);
    s.v.set(name, v);
  }
}

describe('Adam and gradient clipping', () => {
  it('fitSteps equals the reference loop with weight decay and an engaged clip', () => {
    const rm = randomModel('pytorch', { inputSize: 2, hiddenSize: 5, numLayers: 2, outputSize: 1 }, 77, 2);
    const input = randomSequence(5, 12, 4, 2);
    const target = randomSequence(6, 12, 4, 1);
    const o = { lr: 0.01, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.05, clip: 0.05 };
    let model = modelFromBytes(writeSafetensors(rm.tensors, rm.metadata));
    const fit = fitSteps(model, input, target, { steps: 4, lr: o.lr, betas: [o.b1, o.b2], eps: o.eps, weightDecay: o.wd, clipGradNorm: o.clip, burnIn: 1 });
    const s: RefAdam = { m: new Map(), v: new Map(), step: 0 };
    const losses: number[] = [];
    for (let k = 0; k < 4; k++) {
      const { loss, grads } = gradients(model, input, target, { burnIn: 1 });
      let norm = 0;
      for (const g of Object.values(grads)) for (const v of g) norm += v * v;
      expect(Math.sqrt(norm)).toBeGreaterThan(o.clip); // the clip engages
      losses.push(loss);
      const params = Object.fromEntries(Object.entries(model.stateDict()).map(([n, t]) => [n, t.values]));
      referenceStep(params, grads, s, o);
      model = modelFromBytes(writeSafetensors(Object.fromEntries(Object.entries(model.stateDict()).map(([n, t]) => [n, { shape: t.shape, data: params[n] }])), rm.metadata));
    }
    fit.losses.forEach((l, k) => expect(Math.abs(l - losses[k])).toBeLessThanOrEqual(1e-6 + 1e-4 * losses[k]));
    const got = fit.model.stateDict();
    const start = rm.tensors;
    let moved = 0;
    for (const [name, t] of Object.entries(model.stateDict())) {
      t.values.forEach((v, i) => {
        expect(Math.abs(got[name].values[i] - v), `${name}[${i}]`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(v));
        moved = Math.max(moved, Math.abs(v - start[name].data[i]));
      });
    }
    expect(moved).toBeGreaterThan(0.01);
  });

  it('clipGradNorm scales only when the norm exceeds the limit, and returns the norm before clipping', () => {
    const g = Float32Array.from([3, 4]);
    expect(clipGradNorm(g, 10)).toBe(5);
    expect([...g]).toEqual([3, 4]);
    expect(clipGradNorm(g, 1)).toBe(5);
    expect(g[0]).toBeCloseTo(0.6, 6);
    expect(g[1]).toBeCloseTo(0.8, 6);
  });

  it('Adam leaves the caller\'s gradient untouched and counts its steps', () => {
    const adam = new Adam(3, { lr: 0.1, weightDecay: 0.5 });
    const p = Float32Array.from([1, -2, 0]);
    const g = Float32Array.from([0.5, 0.5, -1]);
    adam.step(p, g);
    expect([...g]).toEqual([0.5, 0.5, -1]);
    expect(adam.stepCount).toBe(1);
    // First step: m_hat / sqrt(v_hat) = sign(g + wd p) (up to eps), so every parameter moves by lr.
    expect(p[0]).toBeCloseTo(0.9, 6);
    expect(p[1]).toBeCloseTo(-1.9, 6);
    expect(p[2]).toBeCloseTo(0.1, 6);
  });
});
