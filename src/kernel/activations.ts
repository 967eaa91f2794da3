/**
 * Scalar activations for the portable kernel, in float64.
 * Exact library forms rather than polynomial approximations: the JS kernel is the reference
 * every faster kernel is tested against, so it trades speed for the last bit.
 */
export function sigmoid(x: number): number {
  // 1 / (1 + e^-x) overflows harmlessly to 0 for x << 0 (Infinity in the denominator), so no branch.
  return 1 / (1 + Math.exp(-x));
}

export const tanh = Math.tanh;
