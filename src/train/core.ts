import { Adam } from './adam.js';
import { GruBackprop } from './backprop.js';
import { clipGradNorm } from './clip-grad-norm.js';
import { paramLayout } from './param-layout.js';
import type { NetSize } from './params.js';

/**
 * What the trainer takes from the exact-gradient core (backprop.ts, adam.ts, clip-grad-norm.ts), and
 * nothing more: loss + gradient of a batch of windows on a flat state_dict-order parameter vector,
 * an in-place torch Adam step, clip_grad_norm_. Inputs are time-major: input[(t·B + b)·I + i].
 */
export interface LossGradient {
  lossAndGradient(params: Float32Array, input: Float32Array, target: Float32Array, h0: Float32Array | null, burnIn: number, grad: Float32Array, rows?: number): number;
}

export interface Optimiser {
  step(params: Float32Array, grad: Float32Array): void;
}

export interface Core {
  lossGradient(size: NetSize, steps: number, batch: number): LossGradient;
  adam(size: number, options: { lr: number; weightDecay: number }): Optimiser;
  clipGradNorm(grad: Float32Array, maxNorm: number): number;
}

export const core: Core = {
  lossGradient: (size, steps, batch) => new GruBackprop(paramLayout({ ...size, variant: 'pytorch' }), steps, batch),
  adam: (size, options) => new Adam(size, options),
  clipGradNorm,
};
