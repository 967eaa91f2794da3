import { ErrorCodes, InputError, OptionError } from '../errors.js';
import { type KernelPreference, checkKernelPreference, defaultKernelPreference } from '../kernel/select.js';
import { JsBackprop } from './js-backprop.js';
import { createNativeBackprop } from './native-backprop.js';
import type { ParamLayout } from './param-layout.js';
import { ParamPacker } from './param-packer.js';

export interface GruBackpropOptions {
  /**
   * 'auto' (default; GRU_STREAM_KERNEL=js|native overrides it): the AVX2/FMA backend when the
   * native addon loaded, else the portable one. 'js' or 'native' insist (native throws when missing).
   */
  backend?: KernelPreference;
}

type Backend = Pick<JsBackprop, 'run'>;

/**
 * Loss and exact gradient of a GRU stack + linear head over a batch of windows, by backpropagation
 * through time: the engine behind gradients(), fitSteps() and training loops.
 *
 * Loss (fixtures README, "Training references"): mean over t >= burnIn, every row b and output o, of
 * (head(h_top[t][b])[o] - target[t][b][o])^2.
 *
 * Every call packs the flat parameters (param-layout.ts) into the kernel's weight layout with the
 * loader's own packing code, runs a backend on the packed weights, and maps the packed gradient back
 * to the flat parameters (param-packer.ts). Backends: 'js' (js-backprop.ts, float64 sums, forward
 * identical to the portable inference kernel) and 'native' (native/gru_train.cc, AVX2/FMA float32
 * products with float64 gradient sums). Both pass the same PyTorch and finite-difference tests, and
 * each gives bit-identical results for the same inputs on every run.
 *
 * Scratch for windows of `steps` time steps and up to `batch` rows is allocated once, here; a call
 * allocates nothing.
 */
export class GruBackprop {
  readonly layout: ParamLayout;
  readonly steps: number;
  readonly batch: number;
  /** The backend that runs: 'js' or 'native'. */
  readonly backend: 'js' | 'native';
  readonly #packer: ParamPacker;
  readonly #impl: Backend;
  readonly #g: Float64Array;

  constructor(layout: ParamLayout, steps: number, batch: number, options: GruBackpropOptions = {}) {
    if (layout.shape.outputSize === 0) throw new OptionError('GruBackprop needs a model with a head (the loss is on its forecasts)', { option: 'layout' });
    if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(batch) || batch < 1) {
      throw new OptionError(`GruBackprop needs whole steps >= 1 and batch >= 1, got ${steps} and ${batch}`, { option: 'steps' });
    }
    const preference = options.backend === undefined ? defaultKernelPreference() : checkKernelPreference(options.backend, 'options.backend');
    this.layout = layout;
    this.steps = steps;
    this.batch = batch;
    this.#packer = new ParamPacker(layout);
    this.#g = new Float64Array(this.#packer.weights.totalFloats);
    const native = preference === 'js' ? null : createNativeBackprop(this.#packer.weights, steps, batch);
    if (!native && preference === 'native') throw new OptionError('the native training backend is not available (see availableKernels())', { option: 'backend' });
    this.#impl = native ?? new JsBackprop(this.#packer.weights, steps, batch);
    this.backend = native ? 'native' : 'js';
  }

  /**
   * Loss of `params` on the batch, and its gradient written into `grad` (flat, layout order).
   * input [T][rows][I], target [T][rows][O], h0 [L][rows][H] or null (zeros), all row-major
   * Float32Arrays; 1 <= rows <= batch; 0 <= burnIn < T. Returns the loss (float64).
   */
  lossAndGradient(params: Float32Array, input: Float32Array, target: Float32Array, h0: Float32Array | null, burnIn: number, grad: Float32Array, rows = this.batch): number {
    // Per batch, not per sample: cheap, and a short array must not become a silently wrong gradient.
    const { inputSize: I, outputSize: O, hiddenSize: H, numLayers: L } = this.layout.shape;
    const T = this.steps;
    if (!Number.isInteger(rows) || rows < 1 || rows > this.batch) throw new OptionError(`rows must be an integer in [1, ${this.batch}], got ${rows}`, { option: 'rows' });
    if (!Number.isInteger(burnIn) || burnIn < 0 || burnIn >= T) throw new OptionError(`burnIn must be an integer in [0, ${T - 1}], got ${burnIn}`, { option: 'burnIn' });
    if (params.length !== this.layout.totalFloats || grad.length !== this.layout.totalFloats || input.length < T * rows * I || target.length < T * rows * O || (h0 !== null && h0.length < L * rows * H)) {
      throw new InputError(ErrorCodes.ERR_INPUT_SHAPE, 'lossAndGradient: params and grad must have layout.totalFloats floats, input T*rows*I, target T*rows*O, h0 L*rows*H');
    }
    const w = this.#packer.pack(params);
    const loss = this.#impl.run(w, input, target, h0, burnIn, rows, this.#g);
    this.#packer.unpackGradient(this.#g, grad);
    return loss;
  }
}
