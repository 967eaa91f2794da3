/**
 * The calibration rule for one (step, column) cell: online quantile tracking (Angelopoulos,
 * Candès & Tibshirani 2023, "Conformal PID control", the P part; the quantile-tracking form of
 * Gibbs & Candès' adaptive conformal inference) applied to locally normalised residuals.
 *
 * With m and s a running bias and scale of the residuals r (exponentially weighted, both known
 * before r arrives), the score is z = (r − m) / s and the interval for the next residual is
 * [m + s·z_lo, m + s·z_hi]. After each residual:
 *   z_hi += η (1{z > z_hi} − α/2)        z_lo −= η (1{z < z_lo} − α/2)
 *   m += γ (r − m)                       s += β (|r − m| − s)
 * Whatever the residuals are, Σ_t (1{z_t > z_hi,t} − α/2) = (z_hi,T+1 − z_hi,1) / η exactly (and
 * likewise below), so each side's miss rate over T steps is within (B + η) / (η T) of α/2 when
 * the scores stay within [−B, B]: the long-run coverage bound of ACI-type methods, for any model,
 * biased or not. m and s only choose *where* the interval sits and how wide one z-unit is; they
 * let the interval follow a bias or a change of scale at once instead of through many misses,
 * and make η unitless (a ×10 rescale of the stream changes nothing but the unit).
 */
export const TRACKER = {
  /** η: step of z_lo/z_hi per residual, in units of the residuals' running scale. */
  eta: 0.2,
  /** γ: weight of each new residual in the running bias m (≈ 20-step memory). */
  biasRate: 0.05,
  /** β: weight of each new residual in the running scale s (≈ 10-step memory). */
  scaleRate: 0.1,
  /** Residuals a step needs (online or from validation) before its bounds are published. */
  minScored: 10,
} as const;

/**
 * Prior z-quantile for a fresh cell (before any residual): Φ⁻¹(1 − α/2)·√(π/2), the quantile of
 * a Gaussian residual in units of its mean absolute deviation. The tracker replaces it within a
 * few dozen residuals; bounds are withheld for the first `minScored`.
 */
export function priorZ(normalQuantile: number): number {
  return normalQuantile * Math.sqrt(Math.PI / 2);
}

/**
 * Feed one residual `r` to the cell at `at` (m, s, then z_lo/z_hi per level). `half` holds α/2
 * per level. The score uses `mIssued`, `sIssued`, the m and s the forecast was issued with: for
 * steps k > 1 the cell has absorbed k − 1 later residuals since, which share most of this one's
 * error, and scoring with them would count too few misses. `first`: the cell has seen no
 * residual, so r only sets m and s.
 */
export function trackResidual(cal: Float64Array, at: number, r: number, mIssued: number, sIssued: number, half: Float64Array, first: boolean): void {
  if (first) {
    cal[at] = r;
    cal[at + 1] = Math.abs(r);
    return;
  }
  const m = cal[at];
  const s = cal[at + 1];
  // s = 0 only after identical residuals: any other residual is then outside every interval.
  const z = sIssued > 0 ? (r - mIssued) / sIssued : r > mIssued ? Infinity : r < mIssued ? -Infinity : 0;
  const { eta } = TRACKER;
  for (let l = 0; l < half.length; l++) {
    const lo = at + 2 + 2 * l;
    cal[lo + 1] += eta * ((z > cal[lo + 1] ? 1 : 0) - half[l]);
    cal[lo] -= eta * ((z < cal[lo] ? 1 : 0) - half[l]);
  }
  const m2 = m + TRACKER.biasRate * (r - m);
  cal[at] = m2;
  cal[at + 1] = s + TRACKER.scaleRate * (Math.abs(r - m2) - s);
}

/**
 * Start a cell from validation residuals (time order): split conformal on the normalised scores.
 * m and s start at the residuals' mean and mean absolute deviation and run over them as they
 * would online; z_lo/z_hi are the empirical α/2 and 1 − α/2 quantiles of the scores so made.
 */
export function startFromResiduals(cal: Float64Array, at: number, residuals: readonly number[], half: Float64Array): void {
  const n = residuals.length;
  let m = 0;
  for (const r of residuals) m += r;
  m /= n;
  let s = 0;
  for (const r of residuals) s += Math.abs(r - m);
  s /= n;
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = residuals[i];
    z[i] = s > 0 ? (r - m) / s : 0;
    m += TRACKER.biasRate * (r - m);
    s += TRACKER.scaleRate * (Math.abs(r - m) - s);
  }
  z.sort();
  // The conformal quantile: the ⌈p (n + 1)⌉-th smallest score, clamped to the sample.
  const quantile = (p: number): number => z[Math.min(n - 1, Math.max(0, Math.ceil(p * (n + 1)) - 1))];
  cal[at] = m;
  cal[at + 1] = s;
  for (let l = 0; l < half.length; l++) {
    cal[at + 2 + 2 * l] = quantile(half[l]);
    cal[at + 3 + 2 * l] = quantile(1 - half[l]);
  }
}
