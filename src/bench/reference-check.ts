import { BenchError } from '../errors.js';

/** Largest |forecast - reference| the benchmark accepts: float32 round-off over a few hundred terms, far below any real bug. */
export const BENCH_TOLERANCE = 1e-5;

/**
 * Compares one tick's forecasts with the reference row for that tick; remembers the largest
 * difference seen. A speed figure for wrong numbers is worthless, so the first miss throws.
 */
export class ReferenceCheck {
  maxAbsDiff = 0;
  ticksChecked = 0;

  constructor(private readonly workload: string, private readonly reference: Float32Array, private readonly series: number) {}

  check(tick: number, forecasts: Float32Array): void {
    const S = this.series;
    const base = tick * S;
    let worst = 0;
    let worstAt = -1;
    for (let s = 0; s < S; s++) {
      const d = Math.abs(forecasts[s] - this.reference[base + s]);
      // A NaN forecast (or reference) counts as an infinite miss: `d > worst` alone would skip it.
      if (d > worst || d !== d) {
        worst = d !== d ? Infinity : d;
        worstAt = s;
      }
    }
    if (worst > BENCH_TOLERANCE) {
      throw new BenchError(
        `workload ${this.workload}: forecast of series ${worstAt} at tick ${tick} is ${forecasts[worstAt]}, reference ${this.reference[base + worstAt]} (|diff| ${worst} > ${BENCH_TOLERANCE})`,
        { workload: this.workload, tick, series: String(worstAt), got: forecasts[worstAt], want: this.reference[base + worstAt] },
      );
    }
    if (worst > this.maxAbsDiff) this.maxAbsDiff = worst;
    this.ticksChecked++;
  }
}
