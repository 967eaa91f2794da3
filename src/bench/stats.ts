/** Summary of per-tick wall times. Medians and tails, not means alone: a shared machine is noisy. */
export interface TickStats {
  p50Us: number;
  p99Us: number;
  meanUs: number;
  totalUs: number;
}

/**
 * Nearest-rank percentile of an ascending array (no interpolation: every figure reported is a
 * tick that really happened).
 */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function tickStats(timesUs: Float64Array): TickStats {
  const sorted = Float64Array.from(timesUs).sort();
  let total = 0;
  for (const t of sorted) total += t;
  return { p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99), meanUs: total / sorted.length, totalUs: total };
}
