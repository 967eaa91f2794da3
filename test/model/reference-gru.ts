import type { RandomModel } from './random-model.js';

/**
 * An independent float64 reference of the two GRU variants, written straight from the equations in
 * the fixtures README. It shares no code with src/ (no seed-to-torch rewrite, no packed layout), so
 * agreement with it checks the loader's naming, the rewrite and the kernel together.
 * Returns the same shapes as GruModel.forward: output [T][B][H], hN [L][B][H], forecast [T][B][O].
 */

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** y[j] = sum_k W[row0 + j][col0 + k] * v[k] for a row-major matrix of `width` columns. */
function matvec(W: Float32Array, width: number, row0: number, rows: number, col0: number, v: number[]): number[] {
  const y = new Array<number>(rows).fill(0);
  for (let j = 0; j < rows; j++) {
    let acc = 0;
    for (let k = 0; k < v.length; k++) acc += W[(row0 + j) * width + col0 + k] * v[k];
    y[j] = acc;
  }
  return y;
}

/** One pytorch-variant step (gate rows r, z, n; n resets after the W_hn product). */
function pytorchStep(m: RandomModel, l: number, x: number[], h: number[]): number[] {
  const H = m.sizes.hiddenSize;
  const t = (n: string): Float32Array => m.tensors[`gru.${n}_l${l}`].data;
  const [Wih, Whh, bih, bhh] = [t('weight_ih'), t('weight_hh'), t('bias_ih'), t('bias_hh')];
  const gi = (g: number): number[] => matvec(Wih, x.length, g * H, H, 0, x).map((v, j) => v + bih[g * H + j]);
  const gh = (g: number): number[] => matvec(Whh, H, g * H, H, 0, h).map((v, j) => v + bhh[g * H + j]);
  const [ir, iz, inn, hr, hz, hn] = [gi(0), gi(1), gi(2), gh(0), gh(1), gh(2)];
  return h.map((hj, j) => {
    const r = sigmoid(ir[j] + hr[j]);
    const z = sigmoid(iz[j] + hz[j]);
    const n = Math.tanh(inn[j] + r * hn[j]);
    return (1 - z) * n + z * hj;
  });
}

/** One seed-variant step: W_* act on [x, h]; r multiplies h before W_h; z weights the new candidate. */
function seedStep(m: RandomModel, l: number, x: number[], h: number[]): number[] {
  const H = m.sizes.hiddenSize;
  const p = m.sizes.numLayers === 1 ? '' : `l${l}.`;
  const t = (n: string): Float32Array => m.tensors[`${p}${n}`].data;
  const width = x.length + H;
  const gate = (W: Float32Array, b: Float32Array, v: number[]): number[] => matvec(W, width, 0, H, 0, v).map((a, j) => a + b[j]);
  const z = gate(t('W_z'), t('b_z'), [...x, ...h]).map(sigmoid);
  const r = gate(t('W_r'), t('b_r'), [...x, ...h]).map(sigmoid);
  const hhat = gate(t('W_h'), t('b_h'), [...x, ...h.map((hj, j) => r[j] * hj)]).map(Math.tanh);
  return h.map((hj, j) => (1 - z[j]) * hj + z[j] * hhat[j]);
}

export function referenceForward(m: RandomModel, input: number[][][], h0: number[][][] | null): { output: number[][][]; hN: number[][][]; forecast?: number[][][] } {
  const { hiddenSize: H, numLayers: L, outputSize: O } = m.sizes;
  const B = input[0].length;
  const step = m.variant === 'pytorch' ? pytorchStep : seedStep;
  const h = Array.from({ length: L }, (_, l) => Array.from({ length: B }, (_, b) => (h0 ? [...h0[l][b]] : new Array<number>(H).fill(0))));
  const output: number[][][] = [];
  const forecast: number[][][] = [];
  for (const xt of input) {
    output.push(xt.map((x, b) => {
      let below = x;
      for (let l = 0; l < L; l++) below = h[l][b] = step(m, l, below, h[l][b]);
      return below;
    }));
    if (O > 0) {
      const W = m.tensors['head.weight'].data;
      const bias = m.tensors['head.bias'].data;
      forecast.push(output[output.length - 1].map((top) => matvec(W, H, 0, O, 0, top).map((v, o) => v + bias[o])));
    }
  }
  return O > 0 ? { output, hN: h, forecast } : { output, hN: h };
}
