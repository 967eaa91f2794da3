// The model layer's PyTorch form laid out in the kernel's shared form (kernel/layout.ts): the kernel
// itself never sees the PyTorch form.
import { type WeightLayout, headRow, sharedFloats, weightLayout } from '../kernel/layout.js';
import type { TorchGru } from './torch-gru.js';

export interface PackedWeights {
  layout: WeightLayout;
  /** Backed by a SharedArrayBuffer: workers attach to it once, nothing is copied per step. */
  data: Float32Array;
}

/** Lay a PyTorch-form GRU out in the shared, kernel-ready form described in layout.ts. */
export function packWeights(gru: TorchGru): PackedWeights {
  const layout = weightLayout(gru.shape);
  const data = sharedFloats(layout.totalFloats);
  packWeightsInto(gru, layout, data);
  return { layout, data };
}

/**
 * The packing itself, into a zeroed buffer of layout.totalFloats (padding is never written).
 * Training repacks its parameters through this every step, so its forward pass reads exactly the
 * weights inference would read from a saved copy of the same parameters.
 */
export function packWeightsInto(gru: TorchGru, layout: WeightLayout, data: Float32Array): void {
  const H = gru.shape.hiddenSize;
  const S = layout.gateStride;
  // PyTorch's [3H] rows are r, z, n like a packed gate row, so one offset serves both sides.
  const { r: R, z: Z, n: N } = layout.gates;
  gru.layers.forEach((src, l) => {
    const at = layout.layers[l];
    const inSize = at.inSize;
    for (let row = 0; row < 3 * H; row++) {
      for (let k = 0; k < inSize; k++) data[at.wx + k * S + row] = src.weightIh[row * inSize + k];
      for (let k = 0; k < H; k++) data[at.wh + k * S + row] = src.weightHh[row * H + k];
    }
    for (let j = 0; j < H; j++) {
      // r and z only ever see b_i + b_h, so they are summed once here (float32, as torch adds them).
      data[at.bx + R + j] = src.biasIh[R + j] + src.biasHh[R + j];
      data[at.bx + Z + j] = src.biasIh[Z + j] + src.biasHh[Z + j];
      if (gru.shape.resetAfter) {
        data[at.bx + N + j] = src.biasIh[N + j];
        data[at.bhn + j] = src.biasHh[N + j];
      } else {
        // Reset-before: b_hn is outside r * (...), so it joins b_in and bhn stays zero.
        data[at.bx + N + j] = src.biasIh[N + j] + src.biasHh[N + j];
      }
    }
  });
  if (gru.head && layout.head) {
    for (let o = 0; o < gru.shape.outputSize; o++) data.set(gru.head.weight.subarray(o * H, (o + 1) * H), headRow(layout, o));
    data.set(gru.head.bias, layout.head.b);
  }
}
