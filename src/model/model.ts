import { ErrorCodes, InputError } from '../errors.js';
import { arenaLayout, sharedFloats, stateOffset } from '../kernel/layout.js';
import type { GruShape } from '../kernel/layout.js';
import type { PackedWeights } from './pack-weights.js';
import { type KernelPreference, createKernel } from '../kernel/select.js';
import type { ModelConfig } from './model-config.js';
import type { Tensor } from './safetensors.js';

/** `model.stateDict()`: every parameter under its file name (PyTorch state_dict names, or the seed variant's W_z, ...). */
export type StateDict = Record<string, { shape: number[]; values: Float32Array }>;

/** `forward()` result as nested number arrays, shaped like torch's nn.GRU (sequence first). */
export interface ForwardResult {
  /** [T][B][H]: the last layer's hidden state after every step. */
  output: number[][][];
  /** [L][B][H]: every layer's state after the last step. */
  hN: number[][][];
  /** [T][B][O]: the head applied to output[t]; only when the model has a head. */
  forecast?: number[][][];
}

function shapeError(message: string): InputError {
  return new InputError(ErrorCodes.ERR_INPUT_SHAPE, message);
}

/** Checks a nested array is exactly [d0][d1][d2] of finite numbers; returns [d0, d1], throws coded errors. */
export function checkTensor3(value: unknown, name: string, dims: [number | null, number | null, number]): [number, number] {
  if (!Array.isArray(value) || value.length === 0) throw shapeError(`${name} must be a non-empty array shaped [${dims.map((d) => d ?? '?')}]`);
  if (dims[0] !== null && value.length !== dims[0]) throw shapeError(`${name} has ${value.length} rows at axis 0, expected ${dims[0]}`);
  let d1 = dims[1];
  value.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length === 0) throw shapeError(`${name}[${i}] must be a non-empty array`);
    d1 ??= row.length;
    if (row.length !== d1) throw shapeError(`${name}[${i}] has ${row.length} entries, expected ${d1}`);
    row.forEach((vec: unknown, j) => {
      if (!Array.isArray(vec) || vec.length !== dims[2]) throw shapeError(`${name}[${i}][${j}] must be an array of ${dims[2]} numbers`);
      for (let k = 0; k < vec.length; k++) {
        // The kernel reads float32: a finite double beyond float32's range (1e39) would become
        // Infinity there and NaN after the first 0 * Infinity, so it is rejected like Infinity.
        if (typeof vec[k] !== 'number' || !Number.isFinite(Math.fround(vec[k]))) {
          throw new InputError(ErrorCodes.ERR_NON_FINITE, `${name}[${i}][${j}][${k}] is ${String(vec[k])}, not a finite float32 number`);
        }
      }
    });
  });
  return [value.length, d1!];
}

/** A loaded GRU forecaster: validated config plus weights packed into shared memory. */
export class GruModel {
  readonly config: ModelConfig;
  /** Raw `__metadata__` strings, as stored in the file. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly weights: PackedWeights;
  readonly kernelPreference: KernelPreference;
  /**
   * The file's tensors as loaded. The packed weights cannot give them back (b_ih + b_hh are summed
   * for r and z, seed weights are rewritten), and training and stateDict() need the real parameters.
   */
  readonly #tensors: ReadonlyMap<string, Tensor>;

  constructor(config: ModelConfig, metadata: Record<string, string>, weights: PackedWeights, kernelPreference: KernelPreference, tensors: ReadonlyMap<string, Tensor>) {
    this.config = config;
    this.metadata = Object.freeze({ ...metadata });
    this.weights = weights;
    this.kernelPreference = kernelPreference;
    this.#tensors = tensors;
  }

  /** Every parameter under its file name, in PyTorch's state_dict order (then the head); fresh copies the caller may change. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, t] of this.#tensors) out[name] = { shape: [...t.shape], values: Float32Array.from(t.data) };
    return out;
  }

  get shape(): GruShape {
    return this.weights.layout.shape;
  }

  /**
   * Run whole sequences, like `nn.GRU(batch_first=False)` followed by the head.
   * input: [T][B][inputSize]; h0: [numLayers][B][hiddenSize], omitted = zeros.
   */
  forward(input: number[][][], h0?: number[][][] | null): ForwardResult {
    const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = this.config;
    const [T, B] = checkTensor3(input, 'input', [null, null, I]);
    if (h0 !== undefined && h0 !== null) checkTensor3(h0, 'h0', [L, B, H]);
    const arena = arenaLayout(this.shape, B, 0, 0);
    const states = sharedFloats(arena.totalFloats);
    // Series b lives in slot b.
    if (h0) for (let l = 0; l < L; l++) for (let b = 0; b < B; b++) states.set(h0[l][b], stateOffset(arena, b, l));
    const kernel = createKernel({ weights: this.weights.data, layout: this.weights.layout, arena: states, arenaLayout: arena }, B, this.kernelPreference);
    const slots = Int32Array.from({ length: B }, (_, b) => b);
    const x = new Float32Array(B * I);
    const y = new Float32Array(Math.max(1, B * O));
    const output: number[][][] = [];
    const forecast: number[][][] = [];
    const layerState = (b: number, l: number): number[] => Array.from(states.subarray(stateOffset(arena, b, l), stateOffset(arena, b, l) + H));
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) x.set(input[t][b], b * I);
      kernel.step(B, slots, x, y);
      output.push(Array.from({ length: B }, (_, b) => layerState(b, L - 1)));
      if (O > 0) forecast.push(Array.from({ length: B }, (_, b) => Array.from(y.subarray(b * O, b * O + O))));
    }
    const hN = Array.from({ length: L }, (_, l) => Array.from({ length: B }, (_, b) => layerState(b, l)));
    return O > 0 ? { output, hN, forecast } : { output, hN };
  }
}
