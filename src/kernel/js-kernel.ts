import { sigmoid, tanh } from './activations.js';
import type { GruKernel, KernelContext } from './kernel.js';

/**
 * The portable kernel: plain TypeScript loops, float64 accumulation, float32 state in the arena
 * (as PyTorch keeps it). One series at a time; each gate block is a sum of contiguous weight rows
 * (layout.ts), which is the access pattern V8 compiles best.
 */
export function createJsKernel(ctx: KernelContext, _maxBatch: number): GruKernel {
  const { weights: w, layout, arena } = ctx;
  const { hiddenSize: H, inputSize: I, outputSize: O, resetAfter } = layout.shape;
  const S = layout.gateStride;
  const slotStride = ctx.arenaLayout.slotStride;
  const gx = new Float64Array(3 * H);
  const gh = new Float64Array(3 * H);
  const z = new Float64Array(H);
  const rh = new Float64Array(H);
  const hNew = new Float64Array(H);

  /** gates[0..cols) += sum_k src[srcAt + k] * w[wAt + k*S + col0 ..]. */
  function accumulate(gates: Float64Array, col0: number, cols: number, src: Float32Array | Float64Array, srcAt: number, rows: number, wAt: number): void {
    for (let k = 0; k < rows; k++) {
      const v = src[srcAt + k];
      if (v === 0) continue;
      const base = wAt + k * S + col0;
      for (let j = 0; j < cols; j++) gates[j] += v * w[base + j];
    }
  }

  function stepLayer(l: number, xSrc: Float32Array, xAt: number, hAt: number): void {
    const at = layout.layers[l];
    for (let j = 0; j < 3 * H; j++) {
      gx[j] = w[at.bx + j];
      gh[j] = 0;
    }
    accumulate(gx, 0, 3 * H, xSrc, xAt, at.inSize, at.wx);
    if (resetAfter) {
      accumulate(gh, 0, 3 * H, arena, hAt, H, at.wh);
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gx[j] + gh[j]);
        const zj = sigmoid(gx[H + j] + gh[H + j]);
        const n = tanh(gx[2 * H + j] + r * (gh[2 * H + j] + w[at.bhn + j]));
        const h = arena[hAt + j];
        hNew[j] = n + zj * (h - n);
      }
    } else {
      // Reset before the product: r must be known before W_hn meets (r * h), so two passes.
      accumulate(gh, 0, 2 * H, arena, hAt, H, at.wh);
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gx[j] + gh[j]);
        z[j] = sigmoid(gx[H + j] + gh[H + j]);
        rh[j] = r * arena[hAt + j];
        gh[2 * H + j] = 0;
      }
      for (let k = 0; k < H; k++) {
        const v = rh[k];
        if (v === 0) continue;
        const base = at.wh + k * S + 2 * H;
        for (let j = 0; j < H; j++) gh[2 * H + j] += v * w[base + j];
      }
      for (let j = 0; j < H; j++) {
        const n = tanh(gx[2 * H + j] + gh[2 * H + j]);
        hNew[j] = n + z[j] * (arena[hAt + j] - n);
      }
    }
    for (let j = 0; j < H; j++) arena[hAt + j] = hNew[j];
  }

  function step(count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): void {
    for (let b = 0; b < count; b++) {
      const slotAt = slots[b] * slotStride;
      stepLayer(0, inputs, b * I, slotAt);
      for (let l = 1; l < layout.shape.numLayers; l++) stepLayer(l, arena, slotAt + (l - 1) * H, slotAt + l * H);
      if (layout.head) {
        const top = slotAt + (layout.shape.numLayers - 1) * H;
        for (let o = 0; o < O; o++) {
          let acc = w[layout.head.b + o];
          const row = layout.head.w + o * H;
          for (let k = 0; k < H; k++) acc += arena[top + k] * w[row + k];
          out[b * O + o] = acc;
        }
      }
    }
  }

  return { name: 'js', step };
}
