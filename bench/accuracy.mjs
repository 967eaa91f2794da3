#!/usr/bin/env node
/**
 * Accuracy of `gru-stream train` with its defaults, scored the way the fixtures README scores the
 * classical methods: for every univariate CSV in the data folder, train on rows [0, floor(0.8 N)) with
 * `--seed 1`, stream the WHOLE CSV through `gru-stream predict`, and score the one-step forecasts of the
 * test rows [floor(0.8 N), N) in original units. Each series runs in its own processes, one at a time.
 *
 *   node bench/accuracy.mjs [--data DIR] [--only a,b] [--multivariate] [-- train options...]
 *
 * Prints a Markdown table (MAE of the trained model beside persistence, seasonal naive (12), the
 * classical baselines recorded in the fixtures README, and training seconds) and writes the raw
 * results as JSON lines to bench/out/accuracy-<stamp>.jsonl.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

/** Test-split MAE of the classical methods, copied from the fixtures README ("Accuracy baselines"). */
const CLASSICAL = {
  sunspot_month: { SARIMA: 12.12, 'Holt-Winters': 12.32, 'PyTorch GRU': 12.21 },
  nottem: { 'Holt-Winters': 1.63 },
  air_passengers: { SARIMA: 13.22, 'Holt-Winters': 15.06 },
};

const { values: opts, positionals: trainArgs } = parseArgs({
  options: { data: { type: 'string' }, only: { type: 'string' }, multivariate: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  allowPositionals: true,
});
if (opts.help) {
  console.log('Usage: node bench/accuracy.mjs [--data DIR] [--only a,b] [--multivariate] [-- extra train options]');
  process.exit(0);
}
const dataDir = resolve(opts.data ?? join(root, 'test', 'fixtures', 'data'));
const only = opts.only?.split(',');
const work = mkdtempSync(join(tmpdir(), 'gru-accuracy-'));
mkdirSync(join(here, 'out'), { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const jsonl = join(here, 'out', `accuracy-${stamp}.jsonl`);

function readCsv(path) {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = header.split(',');
  const valueCols = names.map((n, i) => [n, i]).filter(([n]) => !['t', 'time', 'date', 'year', 'index', 'series', ''].includes(n));
  return { header, lines, valueCols, rows: lines.map((l) => l.split(',')) };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const results = [];
for (const file of readdirSync(dataDir).filter((f) => f.endsWith('.csv')).sort()) {
  const name = basename(file, '.csv');
  if (only && !only.includes(name)) continue;
  const csv = readCsv(join(dataDir, file));
  if (csv.valueCols.length !== 1 && !opts.multivariate) {
    console.error(`${name}: ${csv.valueCols.length} value columns, skipped (--multivariate includes it)`);
    continue;
  }
  const n = csv.rows.length;
  const cut = Math.floor(0.8 * n);
  const trainCsv = join(work, `${name}.csv`);
  writeFileSync(trainCsv, `${csv.header}\n${csv.lines.slice(0, cut).join('\n')}\n`);
  const model = join(work, `${name}.safetensors`);
  const report = join(work, `${name}.report.json`);
  const t0 = performance.now();
  await run(process.execPath, [cli, 'train', '--input', trainCsv, '--out', model, '--seed', '1', '--quiet', '--report', report, ...trainArgs], { maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  const { stdout } = await run(process.execPath, [cli, 'predict', '--model', model, '--input', join(dataDir, file)], { maxBuffer: 1 << 28 });
  const forecasts = stdout.trim().split('\n').map((l) => JSON.parse(l).forecast);
  const value = (i, c) => Number(csv.rows[i][csv.valueCols[c][1]]);
  const cols = csv.valueCols.map(([colName], c) => {
    const err = (f) => mean(Array.from({ length: n - cut }, (_, k) => Math.abs(value(cut + k, c) - f(cut + k))));
    return {
      column: colName,
      mae: err((i) => forecasts[i - 1][c]),
      persistence: err((i) => value(i - 1, c)),
      seasonalNaive: err((i) => value(i - 12, c)),
    };
  });
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  const result = { series: name, rows: n, testRows: n - cut, seconds, columns: cols, chosen: rep.chosen, trials: rep.trials, classical: CLASSICAL[name] ?? {}, deadlineHit: rep.deadlineHit };
  results.push(result);
  appendFileSync(jsonl, `${JSON.stringify(result)}\n`);
  console.error(`${name}: MAE ${cols.map((c) => c.mae.toFixed(2)).join('/')} vs persistence ${cols.map((c) => c.persistence.toFixed(2)).join('/')} (${seconds.toFixed(0)} s, ${rep.chosen.transform}, ${rep.chosen.members} x H${rep.chosen.memberHidden})`);
}

const f2 = (v) => (v === undefined ? '—' : v.toFixed(2));
console.log(`\nAccuracy: test MAE (original units), one step ahead, last 20 % of rows; \`gru-stream train\` defaults + --seed 1 ${trainArgs.join(' ')}`);
console.log(`Machine: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| series | test rows | gru-stream train | persistence | seasonal naive (12) | best classical | vs best classical | PyTorch GRU | chosen | train s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
for (const r of results) {
  for (const c of r.columns) {
    const classical = Object.entries(r.classical).filter(([k]) => k !== 'PyTorch GRU');
    const best = classical.length ? classical.reduce((a, b) => (b[1] < a[1] ? b : a)) : null;
    const vs = best ? `${(((c.mae - best[1]) / best[1]) * 100).toFixed(1)} %` : '—';
    const label = r.columns.length > 1 ? `${r.series}/${c.column}` : r.series;
    console.log(`| ${label} | ${r.testRows} | **${f2(c.mae)}** | ${f2(c.persistence)} | ${f2(c.seasonalNaive)} | ${best ? `${best[1]} (${best[0]})` : '—'} | ${vs} | ${f2(r.classical['PyTorch GRU'])} | ${r.chosen.transform}, ${r.chosen.members} x H${r.chosen.memberHidden} | ${r.seconds.toFixed(0)} |`);
  }
}
console.log(`\nRaw results: ${jsonl}`);
