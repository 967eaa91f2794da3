import { type WeightLayout, weightLayout } from '../kernel/layout.js';
import { packWeightsInto } from '../model/pack-weights.js';
import type { TorchGru, TorchLayer } from '../model/torch-gru.js';
import { seedLayerToTorchInto } from '../model/seed-to-torch.js';
import type { ParamLayout } from './param-layout.js';

/**
 * Moves between the flat parameter vector (param-layout.ts) and the kernel's packed weights
 * (src/kernel/layout.ts): parameters forward through the loader's own rewrite and packing code,
 * gradients back through the adjoint of that map.
 *
 * The adjoint, per layer (packed gradient gx/gh columns in gate order r | z | n):
 *   pytorch: weight_ih[row][k] = gwx[k][row], weight_hh[row][k] = gwh[k][row];
 *            bias_ih = gbx (all rows); bias_hh = gbx for r and z (the packed bias is their sum), gbhn for n.
 *   seed:    W_r[j] = [gwx[.][r_j], gwh[.][r_j]], W_z = -[... z_j ...] (the loader negates z), W_h = n columns;
 *            b_r = gbx_r, b_z = -gbx_z, b_h = gbx_n (b_hh is identically zero for seed models).
 */
export class ParamPacker {
  readonly layout: ParamLayout;
  readonly weights: WeightLayout;
  /** The packed weights of the last pack(); zero padding as layout.ts promises. */
  readonly packed: Float32Array;
  readonly #torch: TorchGru;
  #viewsOf: Float32Array | null = null;

  constructor(layout: ParamLayout) {
    this.layout = layout;
    this.weights = weightLayout(layout.shape);
    this.packed = new Float32Array(this.weights.totalFloats);
    const H = layout.shape.hiddenSize;
    // Seed layers are rewritten into these arrays; pytorch layers become views of the flat vector.
    const layers: TorchLayer[] = layout.layers.map((l) => ({
      weightIh: new Float32Array(3 * H * l.inSize),
      weightHh: new Float32Array(3 * H * H),
      biasIh: new Float32Array(3 * H),
      biasHh: new Float32Array(3 * H),
    }));
    const O = layout.shape.outputSize;
    this.#torch = { shape: layout.shape, layers, head: layout.head ? { weight: new Float32Array(O * H), bias: new Float32Array(O) } : null };
  }

  /** Pack `params` into this.packed (allocates only when handed a different params array than last time). */
  pack(params: Float32Array): Float32Array {
    const H = this.layout.shape.hiddenSize;
    const O = this.layout.shape.outputSize;
    if (this.#viewsOf !== params) {
      this.layout.layers.forEach((l, i) => {
        if (l.variant === 'pytorch') {
          this.#torch.layers[i] = {
            weightIh: params.subarray(l.weightIh, l.weightIh + 3 * H * l.inSize),
            weightHh: params.subarray(l.weightHh, l.weightHh + 3 * H * H),
            biasIh: params.subarray(l.biasIh, l.biasIh + 3 * H),
            biasHh: params.subarray(l.biasHh, l.biasHh + 3 * H),
          };
        }
      });
      const head = this.layout.head;
      if (head) this.#torch.head = { weight: params.subarray(head.weight, head.weight + O * H), bias: params.subarray(head.bias, head.bias + O) };
      this.#viewsOf = params;
    }
    this.layout.layers.forEach((l, i) => {
      if (l.variant === 'seed') {
        const width = l.inSize + H;
        const v = (at: number, n: number): Float32Array => params.subarray(at, at + n);
        seedLayerToTorchInto({ wz: v(l.wz, H * width), wr: v(l.wr, H * width), wh: v(l.wh, H * width), bz: v(l.bz, H), br: v(l.br, H), bh: v(l.bh, H) }, l.inSize, H, this.#torch.layers[i]);
      }
    });
    packWeightsInto(this.#torch, this.weights, this.packed);
    return this.packed;
  }

  /** Write the gradient w.r.t. the flat parameters from a gradient w.r.t. the packed weights. */
  unpackGradient(g: Float64Array, out: Float32Array): void {
    const H = this.layout.shape.hiddenSize;
    const S = this.weights.gateStride;
    this.layout.layers.forEach((l, i) => {
      const at = this.weights.layers[i];
      const inSize = l.inSize;
      if (l.variant === 'pytorch') {
        for (let row = 0; row < 3 * H; row++) {
          for (let k = 0; k < inSize; k++) out[l.weightIh + row * inSize + k] = g[at.wx + k * S + row];
          for (let k = 0; k < H; k++) out[l.weightHh + row * H + k] = g[at.wh + k * S + row];
          out[l.biasIh + row] = g[at.bx + row];
          out[l.biasHh + row] = row < 2 * H ? g[at.bx + row] : g[at.bhn + row - 2 * H];
        }
      } else {
        const width = inSize + H;
        const gates: Array<[number, number, number]> = [[l.wr, l.br, 1], [l.wz, l.bz, -1], [l.wh, l.bh, 1]];
        gates.forEach(([w, b, sign], gate) => {
          for (let j = 0; j < H; j++) {
            const col = gate * H + j;
            for (let k = 0; k < inSize; k++) out[w + j * width + k] = sign * g[at.wx + k * S + col];
            for (let k = 0; k < H; k++) out[w + j * width + inSize + k] = sign * g[at.wh + k * S + col];
            out[b + j] = sign * g[at.bx + col];
          }
        });
      }
    });
    const head = this.layout.head;
    const wHead = this.weights.head;
    if (head && wHead) {
      const O = this.layout.shape.outputSize;
      for (let i = 0; i < O * H; i++) out[head.weight + i] = g[wHead.w + i];
      for (let o = 0; o < O; o++) out[head.bias + o] = g[wHead.b + o];
    }
  }
}
