import { OptionError } from '../errors.js';
import type { GruModel } from '../model/model.js';
import { ADAM_DEFAULTS, Adam, type AdamOptions } from './adam.js';
import { GruBackprop } from './backprop.js';
import { flatBatch } from './batch-input.js';
import { clipGradNorm } from './clip-grad-norm.js';
import { flatParams, paramLayoutOf } from './param-layout.js';
import { modelFromParams } from './params-model.js';

export interface FitStepsOptions {
  /** Full-batch Adam steps to take (an integer >= 0). */
  steps: number;
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** clip_grad_norm_'s max_norm before every step; omitted = no clipping. */
  clipGradNorm?: number;
  burnIn?: number;
  h0?: number[][][] | null;
}

export interface FitStepsResult {
  /** The loss before each step (steps entries). */
  losses: number[];
  /** A new model with the parameters after the last step; the input model is unchanged. */
  model: GruModel;
}

function positive(value: unknown, path: string, allowZero: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new OptionError(`options.${path} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(value)}`, { option: path });
  }
  return value;
}

function checkOptions(options: FitStepsOptions): { steps: number; adam: AdamOptions; clip: number | null } {
  if (typeof options !== 'object' || options === null) throw new OptionError('fitSteps needs an options object with steps', { option: 'steps' });
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 0) throw new OptionError(`options.steps must be an integer >= 0, got ${String(steps)}`, { option: 'steps' });
  const betas = options.betas ?? ADAM_DEFAULTS.betas;
  if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
    throw new OptionError(`options.betas must be two numbers in [0, 1), got ${JSON.stringify(options.betas)}`, { option: 'betas' });
  }
  return {
    steps,
    adam: {
      lr: positive(options.lr ?? ADAM_DEFAULTS.lr, 'lr', false),
      betas: [betas[0], betas[1]],
      eps: positive(options.eps ?? ADAM_DEFAULTS.eps, 'eps', true),
      weightDecay: positive(options.weightDecay ?? ADAM_DEFAULTS.weightDecay, 'weightDecay', true),
    },
    clip: options.clipGradNorm === undefined ? null : positive(options.clipGradNorm, 'clipGradNorm', false),
  };
}

/**
 * `steps` full-batch steps of torch.optim.Adam on one batch, each after clip_grad_norm_ when
 * clipGradNorm is given: what PyTorch's loop `loss.backward(); clip_grad_norm_(...); opt.step()` does.
 */
export function fitSteps(model: GruModel, input: number[][][], target: number[][][], options: FitStepsOptions): FitStepsResult {
  const { steps, adam, clip } = checkOptions(options);
  const batch = flatBatch(model, input, target, options.h0, options.burnIn);
  const layout = paramLayoutOf(model);
  const params = flatParams(model, layout);
  const engine = new GruBackprop(layout, batch.steps, batch.rows, { backend: model.kernelPreference });
  const optimiser = new Adam(layout.totalFloats, adam);
  const grad = new Float32Array(layout.totalFloats);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(engine.lossAndGradient(params, batch.input, batch.target, batch.h0, batch.burnIn, grad));
    if (clip !== null) clipGradNorm(grad, clip);
    optimiser.step(params, grad);
  }
  return { losses, model: modelFromParams(layout, params, { ...model.metadata }, { kernel: model.kernelPreference }) };
}
