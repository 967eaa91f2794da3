import type { WeightLayout } from '../kernel/layout.js';

/**
 * The portable backend of GruBackprop (backprop.ts): loss and exact gradient of a GRU stack + head
 * over a batch of windows by backpropagation through time, on the kernel's packed weights.
 *
 * The forward pass is the portable kernel's (src/kernel/js-kernel.ts) operation for operation: the
 * same packed weights, float64 sums in the same order, float32 hidden states and head outputs. So
 * the loss is computed on exactly the forecasts inference gives with that kernel. The backward pass
 * accumulates in float64; the gradient is w.r.t. the packed weights (same offsets as WeightLayout).
 *
 * Memory per (T, B): the float32 states of every layer at every step, and r, z, n (and, reset-after,
 * W_hn h + b_hn) in float64 — (T+1)·L·B·H + 4·T·L·B·H numbers. Nothing is allocated per call.
 */
export class JsBackprop {
  readonly steps: number;
  readonly batch: number;
  readonly #w: WeightLayout;
  /** [T+1][L][B][H]: slot 0 = h0, slot t+1 = after step t. */
  readonly #hs: Float32Array;
  /** [T][L][B][4H]: r | z | n | q (q = W_hn h + b_hn, reset-after only). */
  readonly #acts: Float64Array;
  /** [T][B][O] head outputs (float32, as inference writes them). */
  readonly #ys: Float32Array;
  readonly #gx: Float64Array;
  readonly #gh: Float64Array;
  /** [L][B][H]: d loss / d h_t arriving from step t+1. */
  readonly #dhNext: Float64Array;
  /** [B][H]: d loss / d (input of layer l) handed down to layer l-1 at the same step. */
  readonly #dxDown: Float64Array;
  readonly #dh: Float64Array;
  readonly #dgx: Float64Array;
  readonly #dgh: Float64Array;
  readonly #drh: Float64Array;

  constructor(weights: WeightLayout, steps: number, batch: number) {
    const { hiddenSize: H, numLayers: L, outputSize: O } = weights.shape;
    this.steps = steps;
    this.batch = batch;
    this.#w = weights;
    this.#hs = new Float32Array((steps + 1) * L * batch * H);
    this.#acts = new Float64Array(steps * L * batch * 4 * H);
    this.#ys = new Float32Array(steps * batch * O);
    this.#gx = new Float64Array(3 * H);
    this.#gh = new Float64Array(3 * H);
    this.#dhNext = new Float64Array(L * batch * H);
    this.#dxDown = new Float64Array(batch * H);
    this.#dh = new Float64Array(H);
    this.#dgx = new Float64Array(3 * H);
    this.#dgh = new Float64Array(3 * H);
    this.#drh = new Float64Array(H);
  }

  /** Loss; the gradient w.r.t. the packed weights `w` into g. Arrays as GruBackprop.lossAndGradient. */
  run(w: Float32Array, input: Float32Array, target: Float32Array, h0: Float32Array | null, burnIn: number, rows: number, g: Float64Array): number {
    const loss = this.#forward(w, input, target, h0, burnIn, rows);
    this.#backward(w, input, target, burnIn, rows, g);
    return loss;
  }

  #forward(w: Float32Array, input: Float32Array, target: Float32Array, h0: Float32Array | null, burnIn: number, B: number): number {
    const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O, resetAfter } = this.#w.shape;
    const T = this.steps;
    const S = this.#w.gateStride;
    const hs = this.#hs;
    const acts = this.#acts;
    const ys = this.#ys;
    const gx = this.#gx;
    const gh = this.#gh;
    const LBH = L * B * H;
    if (h0) hs.set(h0.subarray(0, LBH), 0);
    else hs.fill(0, 0, LBH);
    const head = this.#w.head!;
    let sum = 0;
    for (let t = 0; t < T; t++) {
      for (let l = 0; l < L; l++) {
        const at = this.#w.layers[l];
        const inSize = at.inSize;
        for (let b = 0; b < B; b++) {
          const xSrc = l === 0 ? input : hs;
          const xAt = l === 0 ? (t * B + b) * I : (t + 1) * LBH + ((l - 1) * B + b) * H;
          const hAt = t * LBH + (l * B + b) * H;
          const outAt = hAt + LBH;
          const aAt = ((t * L + l) * B + b) * 4 * H;
          for (let j = 0; j < 3 * H; j++) {
            gx[j] = w[at.bx + j];
            gh[j] = 0;
          }
          for (let k = 0; k < inSize; k++) {
            const v = xSrc[xAt + k];
            const base = at.wx + k * S;
            for (let j = 0; j < 3 * H; j++) gx[j] += v * w[base + j];
          }
          if (resetAfter) {
            for (let k = 0; k < H; k++) {
              const v = hs[hAt + k];
              const base = at.wh + k * S;
              for (let j = 0; j < 3 * H; j++) gh[j] += v * w[base + j];
            }
            for (let j = 0; j < H; j++) {
              const r = 1 / (1 + Math.exp(-(gx[j] + gh[j])));
              const z = 1 / (1 + Math.exp(-(gx[H + j] + gh[H + j])));
              const q = gh[2 * H + j] + w[at.bhn + j];
              const n = Math.tanh(gx[2 * H + j] + r * q);
              const h = hs[hAt + j];
              hs[outAt + j] = n + z * (h - n);
              acts[aAt + j] = r;
              acts[aAt + H + j] = z;
              acts[aAt + 2 * H + j] = n;
              acts[aAt + 3 * H + j] = q;
            }
          } else {
            for (let k = 0; k < H; k++) {
              const v = hs[hAt + k];
              const base = at.wh + k * S;
              for (let j = 0; j < 2 * H; j++) gh[j] += v * w[base + j];
            }
            for (let j = 0; j < H; j++) {
              acts[aAt + j] = 1 / (1 + Math.exp(-(gx[j] + gh[j])));
              acts[aAt + H + j] = 1 / (1 + Math.exp(-(gx[H + j] + gh[H + j])));
            }
            for (let k = 0; k < H; k++) {
              const v = acts[aAt + k] * hs[hAt + k];
              const base = at.wh + k * S + 2 * H;
              for (let j = 0; j < H; j++) gh[2 * H + j] += v * w[base + j];
            }
            for (let j = 0; j < H; j++) {
              const n = Math.tanh(gx[2 * H + j] + gh[2 * H + j]);
              const h = hs[hAt + j];
              hs[outAt + j] = n + acts[aAt + H + j] * (h - n);
              acts[aAt + 2 * H + j] = n;
            }
          }
        }
      }
      const topAt = (t + 1) * LBH + (L - 1) * B * H;
      for (let b = 0; b < B; b++) {
        for (let o = 0; o < O; o++) {
          let acc = w[head.b + o];
          const row = head.w + o * H;
          for (let k = 0; k < H; k++) acc += hs[topAt + b * H + k] * w[row + k];
          const yAt = (t * B + b) * O + o;
          ys[yAt] = acc;
          if (t >= burnIn) {
            const e = ys[yAt] - target[yAt];
            sum += e * e;
          }
        }
      }
    }
    return sum / ((T - burnIn) * B * O);
  }

  #backward(w: Float32Array, input: Float32Array, target: Float32Array, burnIn: number, B: number, g: Float64Array): void {
    const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O, resetAfter } = this.#w.shape;
    const T = this.steps;
    const S = this.#w.gateStride;
    const hs = this.#hs;
    const acts = this.#acts;
    const ys = this.#ys;
    const dhNext = this.#dhNext;
    const dxDown = this.#dxDown;
    const dh = this.#dh;
    const dgx = this.#dgx;
    const dgh = this.#dgh;
    const drh = this.#drh;
    const LBH = L * B * H;
    const head = this.#w.head!;
    const scale = 2 / ((T - burnIn) * B * O);
    g.fill(0);
    dhNext.fill(0, 0, LBH);
    for (let t = T - 1; t >= 0; t--) {
      for (let l = L - 1; l >= 0; l--) {
        const at = this.#w.layers[l];
        const inSize = at.inSize;
        for (let b = 0; b < B; b++) {
          const hAt = t * LBH + (l * B + b) * H;
          const aAt = ((t * L + l) * B + b) * 4 * H;
          const dnAt = (l * B + b) * H;
          // d loss / d h_t of this layer: from step t+1, plus the head (top layer) or the layer above.
          for (let k = 0; k < H; k++) dh[k] = dhNext[dnAt + k];
          if (l === L - 1) {
            if (t >= burnIn) {
              const topAt = hAt + LBH;
              for (let o = 0; o < O; o++) {
                const yAt = (t * B + b) * O + o;
                const dy = scale * (ys[yAt] - target[yAt]);
                g[head.b + o] += dy;
                const row = head.w + o * H;
                for (let k = 0; k < H; k++) {
                  g[row + k] += dy * hs[topAt + k];
                  dh[k] += dy * w[row + k];
                }
              }
            }
          } else {
            for (let k = 0; k < H; k++) dh[k] += dxDown[b * H + k];
          }
          // Gate gradients: h' = n + z (h - n).
          for (let j = 0; j < H; j++) {
            const r = acts[aAt + j];
            const z = acts[aAt + H + j];
            const n = acts[aAt + 2 * H + j];
            const h = hs[hAt + j];
            const dan = dh[j] * (1 - z) * (1 - n * n);
            dgx[H + j] = dh[j] * (h - n) * z * (1 - z);
            dgx[2 * H + j] = dan;
            if (resetAfter) {
              const q = acts[aAt + 3 * H + j];
              dgx[j] = dan * q * r * (1 - r);
              dgh[2 * H + j] = dan * r;
            }
          }
          if (!resetAfter) {
            // n = tanh(gx_n + W_hn (r * h)): the reset gate's gradient goes through the product.
            for (let k = 0; k < H; k++) {
              let acc = 0;
              const base = at.wh + k * S + 2 * H;
              for (let j = 0; j < H; j++) acc += w[base + j] * dgx[2 * H + j];
              drh[k] = acc;
              const r = acts[aAt + k];
              dgx[k] = acc * hs[hAt + k] * r * (1 - r);
            }
            for (let k = 0; k < H; k++) {
              const v = acts[aAt + k] * hs[hAt + k];
              const base = at.wh + k * S + 2 * H;
              for (let j = 0; j < H; j++) g[base + j] += v * dgx[2 * H + j];
            }
          }
          for (let j = 0; j < 2 * H; j++) dgh[j] = dgx[j];
          const hCols = resetAfter ? 3 * H : 2 * H;
          for (let j = 0; j < 3 * H; j++) g[at.bx + j] += dgx[j];
          if (resetAfter) for (let j = 0; j < H; j++) g[at.bhn + j] += dgh[2 * H + j];
          // Weight gradients and the state gradient handed to step t-1.
          for (let k = 0; k < H; k++) {
            const v = hs[hAt + k];
            const base = at.wh + k * S;
            let acc = dh[k] * acts[aAt + H + k];
            if (!resetAfter) acc += drh[k] * acts[aAt + k];
            for (let j = 0; j < hCols; j++) {
              g[base + j] += v * dgh[j];
              acc += w[base + j] * dgh[j];
            }
            dhNext[dnAt + k] = acc;
          }
          const xSrc = l === 0 ? input : hs;
          const xAt = l === 0 ? (t * B + b) * I : (t + 1) * LBH + ((l - 1) * B + b) * H;
          for (let k = 0; k < inSize; k++) {
            const v = xSrc[xAt + k];
            const base = at.wx + k * S;
            let acc = 0;
            for (let j = 0; j < 3 * H; j++) {
              g[base + j] += v * dgx[j];
              acc += w[base + j] * dgx[j];
            }
            if (l > 0) dxDown[b * H + k] = acc;
          }
        }
      }
    }
  }
}
