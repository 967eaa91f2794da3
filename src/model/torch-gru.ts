import type { GruShape } from '../kernel/layout.js';

/**
 * A GRU in PyTorch's own form: what the model files (safetensors, ONNX) hold once read, what
 * training updates, and what pack-weights.ts lays out in the kernel's shared form (kernel/layout.ts).
 */

/** One layer in PyTorch's own shapes: weightIh [3H][in], weightHh [3H][H], biases [3H]; gate rows r, z, n. */
export interface TorchLayer {
  weightIh: Float32Array;
  weightHh: Float32Array;
  biasIh: Float32Array;
  biasHh: Float32Array;
}

/** A GRU stack in PyTorch form (seed-variant files are rewritten into it by the model loader). */
export interface TorchGru {
  shape: GruShape;
  layers: TorchLayer[];
  head: { weight: Float32Array; bias: Float32Array } | null;
}
