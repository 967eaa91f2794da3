#!/usr/bin/env node
/**
 * `node bench/intervals.mjs [--model FILE --data CSV]... [--json]`: how well gru-stream's prediction
 * intervals keep their promise on real series (test/fixtures/data) with the trained forecasters
 * (test/fixtures/models), and how wide they are beside naive intervals (quantiles of past
 * persistence errors). Coverage and widths are measured from the 50th record on, per column.
 *
 * Cases: each model on its own series (started cold, and from validation residuals written the
 * way `gru-stream train` writes them), the sunspot model on series it never saw (nottem), on a
 * trending one it is biased on (air_passengers), and streams rescaled and shifted after training
 * (values × 10 + 500). `--model FILE --data CSV` adds a model and series (and its ×10+500 stream).
 * Deterministic: no randomness, one run is the result. Needs `npm run build`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadModel } from '../dist/src/index.js';
import { readSamples, runPredictor, withValidationResiduals } from './lib/interval-eval.mjs';
import { coverage, naive, naiveWidthAt } from './lib/interval-metrics.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'fixtures');
const LEVELS = [0.8, 0.9, 0.95];
const FROM = 49;

const { values: args } = parseArgs({ options: { model: { type: 'string', multiple: true }, data: { type: 'string', multiple: true }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
if (args.help) {
  console.log('Usage: node bench/intervals.mjs [--model FILE --data CSV]... [--json]');
  process.exit(0);
}
if ((args.model?.length ?? 0) !== (args.data?.length ?? 0)) {
  console.error('bench/intervals.mjs: give one --data CSV per --model FILE');
  process.exit(2);
}

const rescale = (v) => v * 10 + 500;
const fixtureModel = (name) => join(fixtures, 'models', `${name}.safetensors`);
const data = (name) => join(fixtures, 'data', `${name}.csv`);
/** The model's training run: its CSV and validation rows (from the fixture's expected.json). */
const training = (name) => JSON.parse(readFileSync(join(fixtures, 'models', `${name}.expected.json`), 'utf8')).config;

const cases = [
  { name: 'sunspot_gru on sunspot_month', model: 'sunspot_gru', csv: data('sunspot_month') },
  { name: 'sunspot_gru + validation residuals on sunspot_month', model: 'sunspot_gru', csv: data('sunspot_month'), validation: true },
  { name: 'eustock_gru on eu_stock_markets', model: 'eustock_gru', csv: data('eu_stock_markets') },
  { name: 'eustock_gru + validation residuals on eu_stock_markets', model: 'eustock_gru', csv: data('eu_stock_markets'), validation: true },
  { name: 'sunspot_gru on nottem (unseen series)', model: 'sunspot_gru', csv: data('nottem') },
  { name: 'sunspot_gru on air_passengers (biased: level model, trending series)', model: 'sunspot_gru', csv: data('air_passengers') },
  { name: 'sunspot_gru + validation residuals on sunspot_month ×10+500', model: 'sunspot_gru', csv: data('sunspot_month'), validation: true, map: rescale },
  { name: 'eustock_gru + validation residuals on eu_stock_markets ×10+500', model: 'eustock_gru', csv: data('eu_stock_markets'), validation: true, map: rescale },
  { name: 'sunspot_gru + validation residuals on air_passengers ×10+500 (biased and rescaled)', model: 'sunspot_gru', csv: data('air_passengers'), validation: true, map: rescale },
];
for (let i = 0; i < (args.model?.length ?? 0); i++) {
  const name = `${basename(args.model[i])} on ${basename(args.data[i])}`;
  cases.push({ name, modelPath: args.model[i], csv: args.data[i] });
  cases.push({ name: `${name} ×10+500`, modelPath: args.model[i], csv: args.data[i], map: rescale });
}

const pct = (x) => `${(100 * x).toFixed(1)}`;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const span = (xs) => (xs.length === 1 ? pct(xs[0]) : `${pct(mean(xs))} (${pct(Math.min(...xs))}–${pct(Math.max(...xs))})`);
const num = (x) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3));

const results = [];
for (const c of cases) {
  const modelPath = c.modelPath ?? fixtureModel(c.model);
  if (!existsSync(modelPath) || !existsSync(c.csv)) throw new Error(`${c.name}: missing ${modelPath} or ${c.csv}`);
  let model = await loadModel(modelPath);
  if (c.validation) {
    // Residuals on the model's own validation rows, as training would have stored them.
    const run = training(c.model);
    model = await withValidationResiduals(modelPath, model, await readSamples(join(fixtures, run.csv), model.config.columns), run.validation_rows);
  }
  const samples = await readSamples(c.csv, model.config.columns, c.map);
  const records = await runPredictor(model, samples, { interval: LEVELS });
  const actuals = samples.map((s) => s.values);
  for (const level of LEVELS) {
    const ours = coverage(records, level, { from: FROM });
    const base = naive(actuals, level, { from: FROM });
    results.push({
      case: c.name, columns: model.config.columns, level, n: ours.n,
      coverage: ours.coverage, width: ours.width,
      naiveCoverage: base.coverage, naiveWidth: base.width,
      naiveWidthAtOurCoverage: naiveWidthAt(actuals, ours.coverage, { from: FROM }),
    });
  }
}

// Multi-step: every step of a horizon-3 path scored against the actual it forecast.
const horizonResults = [];
for (const [name, csv] of [['sunspot_gru', data('sunspot_month')], ['eustock_gru', data('eu_stock_markets')]]) {
  const model = await loadModel(fixtureModel(name));
  const samples = await readSamples(csv, model.config.columns);
  const records = await runPredictor(model, samples, { interval: 0.9, horizon: 3 });
  for (let step = 0; step < 3; step++) {
    const r = coverage(records, 0.9, { from: FROM, step });
    horizonResults.push({ case: `${name} on ${basename(csv)}, horizon 3`, step: step + 1, n: r.n, coverage: r.coverage, width: r.width });
  }
}

if (args.json) {
  console.log(JSON.stringify({ results, horizonResults }, null, 1));
} else {
  console.log(`Prediction intervals, coverage from the ${FROM + 1}th record on (node bench/intervals.mjs, ${new Date().toISOString().slice(0, 10)})\n`);
  console.log('| case | level | records | coverage % (columns: mean (min–max)) | mean width | naive coverage % | naive width | naive width at our coverage |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.case} | ${r.level} | ${r.n} | ${span(r.coverage)} | ${num(mean(r.width))} | ${span(r.naiveCoverage)} | ${num(mean(r.naiveWidth))} | ${num(mean(r.naiveWidthAtOurCoverage))} |`);
  }
  console.log('\n| horizon case | step | records | coverage % at 0.9 | mean width |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of horizonResults) console.log(`| ${r.case} | ${r.step} | ${r.n} | ${span(r.coverage)} | ${num(mean(r.width))} |`);
}
