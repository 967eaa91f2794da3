export interface AdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay, not AdamW's decoupled decay). */
  weightDecay: number;
}

export const ADAM_DEFAULTS: Readonly<AdamOptions> = Object.freeze({ lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0 });

const f = Math.fround;

/**
 * torch.optim.Adam (PyTorch 1.13, single-tensor path, amsgrad off), in place on a flat float32
 * parameter vector. Per element, with step count s:
 *   g' = g + wd·p;  m = β1·m + (1-β1)·g';  v = β2·v + (1-β2)·g'·g'
 *   p -= (lr / (1-β1^s)) · m / (sqrt(v) / sqrt(1-β2^s) + eps)
 * Bias corrections are float64 (Python floats in torch); every tensor operation is rounded to
 * float32 in torch's order, so equal gradients give torch's parameters to the last bit or two.
 * Allocates nothing per step; the caller's gradient is not modified.
 */
export class Adam {
  readonly options: Readonly<AdamOptions>;
  readonly m: Float32Array;
  readonly v: Float32Array;
  #step = 0;

  constructor(size: number, options: Partial<AdamOptions> = {}) {
    this.options = Object.freeze({ ...ADAM_DEFAULTS, ...options });
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.#step;
  }

  step(params: Float32Array, grad: Float32Array): void {
    const { lr, betas, eps, weightDecay } = this.options;
    const [b1, b2] = betas;
    const s = ++this.#step;
    const bc1 = 1 - b1 ** s;
    const bc2Sqrt = f(Math.sqrt(1 - b2 ** s));
    const negStep = f(-(lr / bc1));
    const [fb1, fb2, c1, c2, fwd, feps] = [f(b1), f(b2), f(1 - b1), f(1 - b2), f(weightDecay), f(eps)];
    const { m, v } = this;
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      const g = weightDecay !== 0 ? f(grad[i] + f(fwd * p)) : grad[i];
      const mi = f(f(m[i] * fb1) + f(c1 * g));
      const vi = f(f(v[i] * fb2) + f(f(c2 * g) * g));
      m[i] = mi;
      v[i] = vi;
      const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + feps);
      params[i] = f(p + f(negStep * f(mi / denom)));
    }
  }
}
