/**
 * What prediction intervals promised, measured on a series' records (pure functions, no I/O;
 * shared by bench/intervals.mjs and test/interval/).
 *
 *   coverage(records, level, { from })  fraction of intervals from record `from` on (0-based: the
 *                                        50th record is 49) that held the actual they forecast, per
 *                                        column; a withheld (null) interval counts as a miss
 *   naive(actuals, level, { from })     the same for quantiles of past persistence errors
 */

/** The interval object of `level` in a record (one level: `interval`; several: `intervals`). */
export function intervalOf(record, level, step = 0) {
  if (step > 0 || record.intervalPath || record.intervalPaths) {
    const p = record.intervalPath ?? record.intervalPaths?.find((x) => x.level === level);
    if (step > 0) return p && p.lower ? { lower: p.lower[step], upper: p.upper[step] } : { lower: null, upper: null };
  }
  return record.interval ?? record.intervals.find((x) => x.level === level);
}

/**
 * Per column: coverage and mean width of the step-(step+1) intervals of records from..end against
 * the actual step+1 records later. One series per call.
 */
export function coverage(records, level, { from = 49, step = 0 } = {}) {
  const C = records[0].actual.length;
  const hit = new Array(C).fill(0);
  const width = new Array(C).fill(0);
  let n = 0;
  for (let t = from; t + step + 1 < records.length; t++) {
    const iv = intervalOf(records[t], level, step);
    const next = records[t + step + 1].actual;
    n++;
    for (let c = 0; c < C; c++) {
      if (!iv.lower) continue;
      if (next[c] >= iv.lower[c] && next[c] <= iv.upper[c]) hit[c]++;
      width[c] += iv.upper[c] - iv.lower[c];
    }
  }
  return { n, coverage: hit.map((h) => h / n), width: width.map((w) => w / n) };
}

/** The ⌈p (n + 1)⌉-th smallest of `sorted`, clamped (the split-conformal quantile). */
function conformalQuantile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * (sorted.length + 1)) - 1))];
}

/**
 * Naive intervals: next = last actual ± the `level` quantile of all past absolute persistence
 * errors |v_t − v_{t−1}| of the column. Coverage and mean width from record `from` on.
 */
export function naive(actuals, level, { from = 49 } = {}) {
  const C = actuals[0].length;
  const out = { coverage: [], width: [] };
  for (let c = 0; c < C; c++) {
    const past = [];
    let n = 0, hit = 0, width = 0;
    for (let t = 1; t < actuals.length; t++) {
      const err = Math.abs(actuals[t][c] - actuals[t - 1][c]);
      if (t - 1 >= from) {
        const q = conformalQuantile(past, level);
        n++;
        if (err <= q) hit++;
        width += 2 * q;
      }
      // Insert keeping `past` sorted (a few thousand points: fine for an evaluation script).
      let i = past.length;
      past.push(err);
      while (i > 0 && past[i - 1] > err) { past[i] = past[i - 1]; i--; }
      past[i] = err;
    }
    out.coverage.push(hit / n);
    out.width.push(width / n);
  }
  return out;
}

/**
 * The mean width naive intervals need to reach `target` coverage on this series (their level
 * tuned afterwards, with hindsight, per column by bisection): the fair width to compare with.
 */
export function naiveWidthAt(actuals, target, { from = 49 } = {}) {
  return target.map((goal, c) => {
    const column = actuals.map((row) => [row[c]]);
    let lo = 0.01, hi = 0.9999;
    for (let i = 0; i < 30; i++) {
      const mid = (lo + hi) / 2;
      if (naive(column, mid, { from }).coverage[0] >= goal) hi = mid;
      else lo = mid;
    }
    return naive(column, hi, { from }).width[0];
  });
}

/**
 * Signed one-step residuals (actual − forecast) of `records` (a model's own stream) on records
 * [from, to), in original units and in the transform's normalised space: the `validation_residuals`
 * metadata value as `gru-stream train` writes it.
 */
export function validationResiduals(records, config, [from, to]) {
  const { transform, normStd, inputSize: C } = config;
  const original = Array.from({ length: C }, () => []);
  const normalised = Array.from({ length: C }, () => []);
  for (let t = Math.max(from, 1); t < to; t++) {
    const f = records[t - 1].forecast;
    if (!f) continue;
    for (let c = 0; c < C; c++) {
      const a = records[t].actual[c];
      original[c].push(a - f[c]);
      const std = transform === 'none' ? 1 : normStd[c];
      normalised[c].push(transform === 'log_return+zscore' ? Math.log(a / f[c]) / std : (a - f[c]) / std);
    }
  }
  return { normalised, original };
}
