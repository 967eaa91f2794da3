/**
 * Deterministic pseudo-random numbers for examples, tests, benchmarks and synthetic data, so a run
 * (or a failing case) is reproduced from its seed alone. mulberry32: tiny and fast; not for
 * anything that needs real randomness.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from uniform draws (Box-Muller). */
export function normalFrom(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}
