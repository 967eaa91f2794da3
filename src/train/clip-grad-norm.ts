/**
 * torch.nn.utils.clip_grad_norm_ (PyTorch 1.13, L2) on a flat gradient, in place:
 * total = ||grad||_2 over every parameter; coef = maxNorm / (total + 1e-6); when coef < 1 every
 * element is multiplied by it. Returns the total norm before clipping.
 *
 * The sum of squares is float64 (torch reduces in float32 per tensor, then over tensors: the totals
 * agree to float32 rounding); coef and the products are rounded to float32 as torch's float32 tensors are.
 */
export function clipGradNorm(grad: Float32Array, maxNorm: number): number {
  let sum = 0;
  for (let i = 0; i < grad.length; i++) sum += grad[i] * grad[i];
  const total = Math.fround(Math.sqrt(sum));
  const coef = Math.fround(maxNorm / Math.fround(total + Math.fround(1e-6)));
  if (coef < 1) for (let i = 0; i < grad.length; i++) grad[i] = Math.fround(grad[i] * coef);
  return total;
}
