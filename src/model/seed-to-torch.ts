import type { TorchLayer } from './torch-gru.js';

/** One seed-variant layer: W_* are [H][in + H] over the concatenation [x, h]; b_* are [H]. */
export interface SeedLayer {
  wz: Float32Array;
  wr: Float32Array;
  wh: Float32Array;
  bz: Float32Array;
  br: Float32Array;
  bh: Float32Array;
}

/**
 * Rewrites a textbook layer into PyTorch's form so one kernel serves both variants:
 * split each [x, h] matrix into its x and h blocks, gate rows r, z, n, b_hh = 0.
 *
 * The update rules differ: seed keeps the *new* candidate with z (h' = (1-z) h + z n), PyTorch keeps
 * the *old* state (h' = (1-z') n + z' h). Since 1 - sigmoid(a) = sigmoid(-a), negating the z weights
 * and bias gives z' = 1 - z exactly in real arithmetic; in float32 the two differ by one rounding of
 * the sigmoid, far inside the 1e-5 parity tolerance. The reset-before-matmul difference is a kernel
 * flag (GruShape.resetAfter = false), not a weight rewrite.
 */
export function seedLayerToTorch(seed: SeedLayer, inSize: number, H: number): TorchLayer {
  const out = { weightIh: new Float32Array(3 * H * inSize), weightHh: new Float32Array(3 * H * H), biasIh: new Float32Array(3 * H), biasHh: new Float32Array(3 * H) };
  seedLayerToTorchInto(seed, inSize, H, out);
  return out;
}

/** The rewrite into preallocated PyTorch-form arrays (training repacks every step); out.biasHh is left as it is (zeros). */
export function seedLayerToTorchInto(seed: SeedLayer, inSize: number, H: number, out: TorchLayer): void {
  const { weightIh, weightHh, biasIh } = out;
  const width = inSize + H;
  const gates: Array<[Float32Array, Float32Array, number]> = [[seed.wr, seed.br, 1], [seed.wz, seed.bz, -1], [seed.wh, seed.bh, 1]];
  gates.forEach(([w, b, sign], g) => {
    for (let j = 0; j < H; j++) {
      const row = g * H + j;
      for (let k = 0; k < inSize; k++) weightIh[row * inSize + k] = sign * w[j * width + k];
      for (let k = 0; k < H; k++) weightHh[row * H + k] = sign * w[j * width + inSize + k];
      biasIh[row] = sign * b[j];
    }
  });
}
