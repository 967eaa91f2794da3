/**
 * Markdown tables for the run's results: printed to the terminal and written to
 * bench/out/, from where they are pasted into BENCHMARKS.md.
 */

/** PyTorch figures from /work/shared/bench/README.md: another run, quoted for reference only. */
export const PYTORCH_REFERENCE = {
  W1: { 1: 36_600, 2: 37_100 },
  W2: { 1: 542_000, 2: 895_000 },
  W3: { 1: 65_900, 2: 130_000 },
};

const n = (x) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Math.round(x).toLocaleString('en-US'));
const us = (x) => (x === null || x === undefined ? '—' : x < 100 ? x.toFixed(2) : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
const kernelOf = (r) => /kernel=(\w+)/.exec(r?.notes ?? '')?.[1] ?? '—';

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function workloadTable(results) {
  const rows = results.map(({ workload, threads, gru, ort, ratios }) => [
    workload,
    threads,
    kernelOf(gru),
    n(gru?.series_steps_per_s),
    us(gru?.p50_tick_us),
    us(gru?.p99_tick_us),
    n(ort?.series_steps_per_s),
    us(ort?.p50_tick_us),
    us(ort?.p99_tick_us),
    `**${ratio(gru?.series_steps_per_s, ort?.series_steps_per_s)}**`,
    ratios && ratios.length > 1 ? `${ratios[0].toFixed(2)}–${ratios[ratios.length - 1].toFixed(2)}× (${ratios.length} pairs)` : '—',
    n(PYTORCH_REFERENCE[workload]?.[threads]),
    gru ? `${gru.ticks_measured}${gru.truncated ? '*' : ''} / ${ort?.ticks_measured ?? '—'}` : gru === null ? 'failed' : '—',
  ]);
  return table(['workload', 'threads', 'kernel', 'gru-stream steps/s', 'p50 µs', 'p99 µs', 'ORT steps/s', 'ORT p50 µs', 'ORT p99 µs', 'gru-stream / ORT (median pair)', 'ratio range', 'PyTorch steps/s (reference, other run)', 'timed ticks gru / ORT'], rows);
}

export function sweepTable(points) {
  const rows = points.map((p) => [
    p.hidden,
    p.series.toLocaleString('en-US'),
    kernelOf(p.gru),
    p.gru ? n(p.gru.series_steps_per_s) : p.gruSkip ?? 'failed',
    p.gru ? (p.gru.series_steps_per_s * p.flops / 1e9).toFixed(1) : '—',
    us(p.gru?.p50_tick_us),
    p.ort ? n(p.ort.series_steps_per_s) : p.ortSkip ?? 'failed',
    p.ort ? (p.ort.series_steps_per_s * p.flops / 1e9).toFixed(1) : '—',
    `**${ratio(p.gru?.series_steps_per_s, p.ort?.series_steps_per_s)}**`,
    p.agreement ?? '—',
  ]);
  return table(['H', 'series', 'kernel', 'gru-stream steps/s', 'GFLOP/s', 'p50 µs', 'ORT steps/s', 'ORT GFLOP/s', 'gru-stream / ORT', 'forecasts agree (max abs diff)'], rows);
}

export function liveTable(points) {
  const base = points[0]?.p50_handle_tick_us;
  const rows = points.map((p) => [p.live_series.toLocaleString('en-US'), p.hidden, p.kernel, p.rss_bytes_per_series, p.arena_bytes_per_series, us(p.p50_tick_us), us(p.p99_tick_us), us(p.p50_lookup_us), us(p.p50_kernel_us), us(p.p50_handle_tick_us), base ? `${(p.p50_handle_tick_us / base).toFixed(2)}×` : '—']);
  return table(['live series', 'H', 'kernel', 'RSS bytes / series', 'arena bytes / series', 'p50 µs by id (1,024 active)', 'p99 µs', 'p50 id→slot lookup µs', 'p50 kernel µs', 'p50 µs by handle', 'by handle / first row'], rows);
}

export function e2eTable(runs) {
  const x = (v) => `${v.toFixed(2)}×`;
  const rows = runs.map((r) => [
    r.path ?? `predict --workers ${r.workers}`,
    r.error ? `failed: ${r.error}` : n(r.samples_per_s),
    r.min_samples_per_s === undefined ? '—' : `${n(r.min_samples_per_s)}–${n(r.max_samples_per_s)} (${r.runs} runs)`,
    n(r.samples),
    r.max_abs_diff?.toExponential?.(2) ?? '—',
    r.kernel_w2_median === undefined ? '—' : n(r.kernel_w2_median),
    r.ratio_median === undefined ? '—' : `**${x(r.ratio_median)}** (${x(r.ratio_min)}–${x(r.ratio_max)})`,
  ]);
  return table(['path', 'samples/s (median run)', 'slowest–fastest run', 'timed samples', 'max abs(forecast − ref)', 'kernel W2 steps/s (1 thread, median of the rounds)', 'e2e / kernel (median of rounds, range)'], rows);
}

/** PyTorch 1.13, one thread, 80 epochs of the sunspot_gru recipe: fixtures README, another run. */
export const PYTORCH_TRAIN_SECONDS = 74.45;

export function trainTable(runs) {
  const rows = runs.map((r) => {
    const scale = 80 / r.epochs;
    const est = (s) => (r.epochs === 80 ? s.toFixed(1) : `~${(s * scale).toFixed(1)}`);
    return [
      r.backprop,
      r.epochs,
      r.seconds.toFixed(1),
      r.cpu_seconds.toFixed(1),
      est(r.seconds),
      est(r.cpu_seconds),
      `**${(PYTORCH_TRAIN_SECONDS / (r.seconds * scale)).toFixed(2)}×** wall, ${(PYTORCH_TRAIN_SECONDS / (r.cpu_seconds * scale)).toFixed(2)}× CPU`,
      r.best_epoch,
      r.best_validation_mse.toFixed(4),
    ];
  });
  return table(['backend', 'epochs run', 'wall s', 'CPU s', '80 epochs wall s', '80 epochs CPU s', 'PyTorch 74.45 s (quoted) / ours', 'best epoch', 'best validation MSE'], rows);
}
