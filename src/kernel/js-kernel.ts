import { sigmoid, tanh } from './activations.js';
import type { GruKernel, KernelContext } from './kernel.js';
import { headRow, stateOffset } from './layout.js';

/**
 * The portable kernel: plain TypeScript loops, float64 accumulation, float32 state in the arena
 * (as PyTorch keeps it). One series at a time; each gate block is a sum of contiguous weight rows
 * (layout.ts), which is the access pattern V8 compiles best.
 */
export function createJsKernel(ctx: KernelContext, _maxBatch: number): GruKernel {
  const { weights: w, layout, arena, arenaLayout: places } = ctx;
  const { hiddenSize: H, inputSize: I, outputSize: O, numLayers: L, resetAfter } = layout.shape;
  const S = layout.gateStride;
  // Gate blocks of a packed row (layout.ts): r at R, z at Z, n at N, each H wide; gx/gh use the same.
  const { r: R, z: Z, n: N } = layout.gates;
  const RZ = N - R; // r and z are adjacent: one product covers both
  const gx = new Float64Array(3 * H);
  const gh = new Float64Array(3 * H);
  const z = new Float64Array(H);
  const rh = new Float64Array(H);
  const hNew = new Float64Array(H);

  /** gates[col0..col0+cols) += sum_k src[srcAt + k] * w[wAt + k*S + col0 ..]. */
  function accumulate(gates: Float64Array, col0: number, cols: number, src: Float32Array | Float64Array, srcAt: number, rows: number, wAt: number): void {
    for (let k = 0; k < rows; k++) {
      const v = src[srcAt + k];
      if (v === 0) continue;
      const base = wAt + k * S + col0;
      for (let j = 0; j < cols; j++) gates[col0 + j] += v * w[base + j];
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
        const r = sigmoid(gx[R + j] + gh[R + j]);
        const zj = sigmoid(gx[Z + j] + gh[Z + j]);
        const n = tanh(gx[N + j] + r * (gh[N + j] + w[at.bhn + j]));
        const h = arena[hAt + j];
        hNew[j] = n + zj * (h - n);
      }
    } else {
      // Reset before the product: r must be known before W_hn meets (r * h), so two passes.
      accumulate(gh, R, RZ, arena, hAt, H, at.wh);
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gx[R + j] + gh[R + j]);
        z[j] = sigmoid(gx[Z + j] + gh[Z + j]);
        rh[j] = r * arena[hAt + j];
        gh[N + j] = 0;
      }
      for (let k = 0; k < H; k++) {
        const v = rh[k];
        if (v === 0) continue;
        const base = at.wh + k * S + N;
        for (let j = 0; j < H; j++) gh[N + j] += v * w[base + j];
      }
      for (let j = 0; j < H; j++) {
        const n = tanh(gx[N + j] + gh[N + j]);
        hNew[j] = n + z[j] * (arena[hAt + j] - n);
      }
    }
    for (let j = 0; j < H; j++) arena[hAt + j] = hNew[j];
  }

  function step(count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): void {
    for (let b = 0; b < count; b++) {
      const slot = slots[b];
      stepLayer(0, inputs, b * I, stateOffset(places, slot, 0));
      for (let l = 1; l < L; l++) stepLayer(l, arena, stateOffset(places, slot, l - 1), stateOffset(places, slot, l));
      if (layout.head) {
        const top = stateOffset(places, slot, L - 1);
        for (let o = 0; o < O; o++) {
          let acc = w[layout.head.b + o];
          const row = headRow(layout, o);
          for (let k = 0; k < H; k++) acc += arena[top + k] * w[row + k];
          out[b * O + o] = acc;
        }
      }
    }
  }

  return { name: 'js', step };
}
