#!/usr/bin/env node
/**
 * `npm run bench`: gru-stream against onnxruntime-node in the same run, on the same machine.
 *
 *   1. W1–W3 (../shared/bench) at 1 and 2 threads: `gru-stream bench` vs bench/peers/ort-bench.mjs
 *   2. sweep H × series on random weights (ONNX written by bench/lib/onnx-gru.mjs), 1 thread
 *   3. live series 1k → 1M at H=16: RSS per series, latency of a 1,024-series subset
 *   4. end to end: `gru-stream predict` through real pipes vs the kernel's own W2 rate
 *   5. training time: the sunspot_gru recipe (bench/lib/train-sunspot.mjs), native and portable backends
 *
 * Every measurement runs in its own process. Raw JSON lines go to bench/out/run-<stamp>.jsonl and
 * the tables to bench/out/run-<stamp>.md (also printed).
 *
 *   node bench/run.mjs [--quick] [--only workloads,sweep,live,e2e,train] [--budget-s S]
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { torchGruFromFlat } from '../dist/src/bench/flat-weights.js';
import { availableKernels } from '../dist/src/kernel/select.js';
import { runNode } from './lib/child.mjs';
import { E2E_REPEATS, measurePredict } from './lib/e2e-predict.mjs';
import { ensureOrt } from './lib/ensure-ort.mjs';
import { writeModelFile } from './lib/model-file.mjs';
import { gruOnnxModel } from './lib/onnx-gru.mjs';
import { e2eTable, liveTable, sweepTable, trainTable, workloadTable } from './lib/report.mjs';
import { writeSweep } from './lib/synthetic.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const USAGE = `Usage: npm run bench [-- --quick] [-- --only workloads,sweep,live,e2e,train] [-- --budget-s S] [-- --workloads FILE]

gru-stream against onnxruntime-node in the same run: W1-W3 at 1 and 2 threads, an H x series
sweep, live-series scaling, predict end to end and training time. Results: bench/out/run-<time>.{jsonl,md}.`;
let values;
try {
  ({ values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'budget-s': { type: 'string' }, workloads: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
} catch (err) {
  console.error(`bench: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const quick = values.quick ?? false;
const only = new Set((values.only ?? 'workloads,sweep,live,e2e,train').split(','));
const budget = Number(values['budget-s'] ?? (quick ? 1 : 5));
const sweepBudget = quick ? 0.5 : 2;
/** A sweep point whose warm-up plus one tick is estimated above this is skipped (plain JS at H=512 × 65,536 series would take minutes). */
const MAX_POINT_S = 30;
const workloadsFile = resolve(values.workloads ?? join(root, '..', 'shared', 'bench', 'workloads.json'));
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const ortScript = join(here, 'peers', 'ort-bench.mjs');
const outDir = join(here, 'out');
mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const rawFile = join(outDir, `run-${stamp}.jsonl`);
const record = (section, obj) => appendFileSync(rawFile, `${JSON.stringify({ section, ...obj })}\n`);
const log = (s) => process.stderr.write(`${s}\n`);
let failed = false;

// ── machine ──────────────────────────────────────────────────────────────────────────────
const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1].trim().split(/\s+/) ?? [];
/**
 * "Quiet" = the 1-minute load average is at most half a core per core before a section starts: on a
 * shared machine other processes take cores from the measurement, and every figure is suspect when
 * they do. Printed beside every section, so a reader can tell a slow machine from a slow program.
 */
const QUIET_LOAD_PER_CORE = 0.5;
const loadNow = () => {
  const [one, five, fifteen] = loadavg().map((x) => Number(x.toFixed(2)));
  return { load_1m: one, load_5m: five, load_15m: fifteen, quiet: one <= QUIET_LOAD_PER_CORE * cpus().length };
};
const loadText = (l) => `load average ${l.load_1m} / ${l.load_5m} / ${l.load_15m} (1/5/15 min): ${l.quiet ? 'quiet' : `NOT quiet (over ${QUIET_LOAD_PER_CORE} per core): figures are noisy`}`;
const sectionLoad = (name) => {
  const l = loadNow();
  record('load', { section: name, ...l });
  log(`${name}: ${loadText(l)}`);
  return `Load before this section: ${loadText(l)}.`;
};
const machine = {
  cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  simd: ['avx2', 'fma', 'avx512f', 'avx512vl'].filter((f) => flags.includes(f)).join(' '),
  ...loadNow(),
  mem_gib: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  date: new Date().toISOString(),
  kernels: availableKernels(),
};
record('machine', machine);
log(`machine: ${machine.cpu}, ${machine.cores} cores (${machine.simd}), ${machine.mem_gib} GiB, Node ${machine.node}; kernels available: ${machine.kernels.join(', ')}`);
log(`machine: ${loadText(machine)}`);

// Only the workload and sweep sections compare with ORT: `--only train` (or live, e2e) needs no install.
const ort = only.has('workloads') || only.has('sweep') ? ensureOrt(join(here, 'peers')) : { ok: false, reason: 'not needed by the selected sections' };
record('ort', ort);
log(ort.ok ? `onnxruntime-node ${ort.version}` : `onnxruntime-node unavailable: ${ort.reason}`);

const md = [`# gru-stream bench run ${machine.date}`, '', `Machine: ${machine.cpu}, ${machine.cores} cores (${machine.simd}), ${machine.mem_gib} GiB; Node ${machine.node}; kernels available: ${machine.kernels.join(', ')}; onnxruntime-node ${ort.ok ? ort.version : `unavailable (${ort.reason})`}; at start, ${loadText(machine)}.`, ''];

/**
 * The kernel is pinned to the fastest one available at start: if it stops loading mid-run (e.g. the
 * addon is being rebuilt), those rows fail loudly instead of quietly measuring the JS kernel.
 */
const kernel = process.env.GRU_STREAM_KERNEL || machine.kernels[0];

async function gruBench(file, extra) {
  const r = await runNode([cli, 'bench', '--workloads', file, '--kernel', kernel, ...extra]);
  if (r.code !== 0) {
    failed = true;
    log(`gru-stream bench ${extra.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  return r.lines;
}

async function ortBench(file, extra) {
  if (!ort.ok) return [];
  const r = await runNode([ortScript, '--workloads', file, ...extra]);
  if (r.code !== 0) log(`ort-bench ${extra.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 400)}`);
  return r.lines;
}

// ── 1. shared workloads ──────────────────────────────────────────────────────────────────
const workloadRows = [];
if (only.has('workloads')) {
  const before = sectionLoad('workloads');
  // The same process can run a workload at 35k or at 111k steps/s minutes apart on this shared guest
  // (measured: W3, 1 thread, either vCPU), so the peers run in PAIRS alternating pairs, and each row is
  // the pair whose ratio is the median, with the range of all pairs' ratios beside it.
  const PAIRS = quick ? 1 : 5;
  for (const threads of [1, 2]) {
    const pairs = [];
    for (let k = 0; k < PAIRS; k++) {
      log(`W1–W3, ${threads} thread(s), pair ${k + 1}/${PAIRS}…`);
      const gru = await gruBench(workloadsFile, ['--threads', String(threads), '--budget-s', String(budget)]);
      const peer = await ortBench(workloadsFile, ['--threads', String(threads), '--budget-s', String(budget)]);
      for (const r of [...gru, ...peer]) record('workload', r);
      pairs.push({ gru, peer });
    }
    for (const id of ['W1', 'W2', 'W3']) {
      const rows = pairs.map(({ gru, peer }) => ({ workload: id, threads, gru: gru.find((r) => r.workload === id) ?? null, ort: peer.find((r) => r.workload === id) ?? null }));
      const rated = rows.filter((r) => r.gru && r.ort).map((r) => ({ ...r, ratio: r.gru.series_steps_per_s / r.ort.series_steps_per_s })).sort((a, b) => a.ratio - b.ratio);
      workloadRows.push(rated.length === 0 ? rows[0] : { ...rated[Math.floor((rated.length - 1) / 2)], ratios: rated.map((r) => r.ratio) });
    }
  }
  md.push('## W1–W3 (PyTorch-generated workloads), medians of timed ticks', '', before, '', workloadTable(workloadRows), '');
  md.push('`*` = stopped by the time budget before the last tick. PyTorch figures are quoted from ../shared/bench/README.md (another run on a machine of the same kind); only the ORT ratios are same-run. Each row is the median of the pairs (gru-stream then ORT, alternating) by ratio; "ratio range" gives every pair\'s.', '');
  if (ort.ok) {
    // The sweep's ONNX files come from our own exporter: check it against PyTorch on W2 first.
    const spec = JSON.parse(readFileSync(workloadsFile, 'utf8')).workloads.find((w) => w.id === 'W2');
    const bytes = readFileSync(resolve(dirname(workloadsFile), spec.files.weights));
    const gru = torchGruFromFlat({ input: spec.input, hidden: spec.hidden, layers: spec.layers }, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
    const onnx = join(outDir, 'W2.own.onnx');
    writeFileSync(onnx, gruOnnxModel(gru));
    const [check] = await ortBench(workloadsFile, ['--workload', 'W2', '--onnx', onnx, '--max-ticks', '20', '--budget-s', '100']);
    record('exporter-check', { max_abs_diff: check?.max_abs_diff ?? null });
    md.push(`ONNX exporter check (bench/lib/onnx-gru.mjs on W2's weights, ORT, 20 ticks): max |forecast − PyTorch| = ${check?.max_abs_diff?.toExponential(2) ?? 'n/a'}.`, '');
  }
}

// ── 2. sweep ─────────────────────────────────────────────────────────────────────────────
if (only.has('sweep')) {
  const I = 8;
  const hiddens = [16, 64, 256, 512];
  const seriesList = [1, 64, 1024, 65536];
  const ticksFor = { 1: [2000, 50], 64: [400, 20], 1024: [40, 5], 65536: [6, 2] };
  const points = hiddens.flatMap((H) => seriesList.map((S) => ({ id: `H${H}_S${S}`, input: I, hidden: H, layers: 1, series: S, ticks: ticksFor[S][0], warmup_ticks: ticksFor[S][1] })));
  const sweepBefore = sectionLoad('sweep');
  log(`sweep: writing ${points.length} random workloads…`);
  const { file } = writeSweep(join(outDir, 'sweep'), points);
  const rows = [];
  const lastRate = new Map();
  const estimateS = (peer, p) => {
    const rate = lastRate.get(`${peer}:${p.hidden}`);
    return rate ? ((p.warmup_ticks + 1) * p.series) / rate : 0;
  };
  for (const p of points) {
    const row = { hidden: p.hidden, series: p.series, flops: 6 * p.hidden * (p.input + p.hidden) + 2 * p.hidden };
    log(`sweep ${p.id}…`);
    if (estimateS('gru', p) > MAX_POINT_S) {
      row.gruSkip = `skipped (est. ${Math.round(estimateS('gru', p))} s)`;
    } else {
      [row.gru] = await gruBench(file, ['--workload', p.id, '--threads', '1', '--budget-s', String(sweepBudget)]);
      if (row.gru) lastRate.set(`gru:${p.hidden}`, row.gru.series_steps_per_s);
    }
    if (!ort.ok) {
      row.ortSkip = 'unavailable';
    } else if (estimateS('ort', p) > MAX_POINT_S) {
      row.ortSkip = `skipped (est. ${Math.round(estimateS('ort', p))} s)`;
    } else {
      // ORT runs at least as far as gru-stream did and reports its forecasts at that tick, so the
      // two peers are compared on the same tick (there is no PyTorch reference for random weights).
      const k = row.gru?.final_tick;
      const extra = k === undefined ? [] : ['--min-ticks', String(k + 1), '--forecasts-at', String(k)];
      [row.ort] = await ortBench(file, ['--workload', p.id, '--threads', '1', '--budget-s', String(sweepBudget), ...extra]);
      if (row.ort) lastRate.set(`ort:${p.hidden}`, row.ort.series_steps_per_s);
      const theirs = row.ort?.forecasts_at?.values;
      if (theirs) {
        let d = 0;
        row.gru.final_forecasts.forEach((v, s) => (d = Math.max(d, Math.abs(v - theirs[s]))));
        row.agreement = `${d <= 1e-5 ? 'yes' : '**NO**'} (${d.toExponential(1)})`;
        if (d > 1e-5) failed = true;
      }
    }
    record('sweep', { ...row, gru: row.gru && { ...row.gru, final_forecasts: undefined }, ort: row.ort && { ...row.ort, final_forecasts: undefined, forecasts_at: undefined } });
    rows.push(row);
  }
  md.push('## Sweep: random weights, input 8, 1 layer, 1 thread', '', sweepBefore, '', sweepTable(rows), '');
  md.push('GFLOP/s counts 6·H·(I+H) + 2·H flops per series-step. Forecasts of the two peers are compared at gru-stream\'s last tick (within 1e-5 = agree).', '');
}

// ── 3. live series ───────────────────────────────────────────────────────────────────────
if (only.has('live')) {
  const liveBefore = sectionLoad('live');
  const rows = [];
  for (const live of [1024, 16384, 262144, 1048576]) {
    log(`live series ${live}…`);
    const r = await runNode(['--expose-gc', join(here, 'lib', 'live-series.mjs'), String(live), '16']);
    if (r.lines[0]) {
      record('live', r.lines[0]);
      rows.push(r.lines[0]);
    } else log(`live-series ${live} failed: ${r.stderr.slice(0, 400)}`);
  }
  md.push('## Live series: H=16, input 8, 1 thread; each tick steps 1,024 of the live series (looked up by id, or by handle)', '', liveBefore, '', liveTable(rows), '');
  md.push('RSS per series = RSS growth after giving every series an id, a slot and one step, / live series (ids + map + arena). The arena alone is the fixed per-slot figure.', '');
}

// ── 4. end to end ────────────────────────────────────────────────────────────────────────
if (only.has('e2e')) {
  const e2eBefore = sectionLoad('e2e');
  const spec = JSON.parse(readFileSync(workloadsFile, 'utf8')).workloads.find((w) => w.id === 'W2');
  const f32 = (p) => {
    const b = readFileSync(resolve(dirname(workloadsFile), p));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const model = join(outDir, 'W2.safetensors');
  writeModelFile(model, torchGruFromFlat({ input: spec.input, hidden: spec.hidden, layers: spec.layers }, f32(spec.files.weights)));
  // The denominator is measured beside each repetition, not once: this machine's speed drifts by
  // tens of per cent within minutes, and a ratio is only fair between figures taken together.
  const kernelW2Now = async () => (await gruBench(workloadsFile, ['--workload', 'W2', '--threads', '1', '--budget-s', String(quick ? 1 : 2)]))[0]?.series_steps_per_s;
  // A timed run is a fraction of a second on a shared machine: each path runs REPEATS times, in turn
  // with a kernel run, and its median run and median ratio are reported (all runs are in the JSON lines).
  const REPEATS = quick ? 1 : 5;
  const paths = [
    ...[0, 1].map((workers) => ({ label: `predict --workers ${workers}`, run: () => measurePredict({ cli, model, inputs: f32(spec.files.inputs), reference: f32(spec.files.reference), series: spec.series, input: spec.input, ticks: quick ? 30 : spec.ticks, warmupTicks: spec.warmup_ticks, workers, repeats: quick ? 1 : E2E_REPEATS }) })),
    {
      label: 'predictor.writeBatch(handles, Float32Array)',
      run: async () => {
        const bin = await runNode([join(here, 'lib', 'e2e-binary.mjs'), model, resolve(dirname(workloadsFile), spec.files.inputs), resolve(dirname(workloadsFile), spec.files.reference), String(spec.series), String(spec.input), String(quick ? 30 : spec.ticks), String(spec.warmup_ticks)]);
        if (!bin.lines[0]) throw new Error(bin.stderr.slice(0, 300));
        return bin.lines[0];
      },
    },
  ];
  const tries = paths.map(() => []);
  for (let k = 0; k < REPEATS; k++) {
    log(`end to end, kernel W2 1 thread (${k + 1}/${REPEATS})…`);
    const kernelW2 = await kernelW2Now();
    for (const [i, path] of paths.entries()) {
      log(`end to end, ${path.label} (${k + 1}/${REPEATS})…`);
      let r;
      try {
        r = { path: path.label, ...(await path.run()), kernel_w2_steps_per_s: kernelW2 };
        if (!(r.max_abs_diff <= 1e-5)) failed = true;
      } catch (err) {
        r = { path: path.label, error: err.message };
        failed = true;
      }
      record('e2e', r);
      tries[i].push(r);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const runs = tries.map((rs) => {
    const ok = rs.filter((r) => !r.error).sort((a, b) => a.samples_per_s - b.samples_per_s);
    if (ok.length === 0) return rs[0];
    const ratios = ok.map((r) => r.samples_per_s / r.kernel_w2_steps_per_s);
    return { ...ok[Math.floor((ok.length - 1) / 2)], runs: rs.length, min_samples_per_s: ok[0].samples_per_s, max_samples_per_s: ok[ok.length - 1].samples_per_s, kernel_w2_median: median(ok.map((r) => r.kernel_w2_steps_per_s)), ratio_median: median(ratios), ratio_min: Math.min(...ratios), ratio_max: Math.max(...ratios) };
  });
  md.push('## End to end: `gru-stream predict --format ndjson` through pipes, and the binary API, W2 (1,024 interleaved series)', '', e2eBefore, '', e2eTable(runs), '');
  md.push(`The model is W2 saved as a safetensors state_dict (bench/out/W2.safetensors); every forecast is checked against W2.ref.f32. Warm-up ticks are answered before the clock starts; \`predict\` then gets W2's timed ticks ${quick ? 'once' : `${E2E_REPEATS} times, each repetition after the first under fresh series ids (so it starts from zero states and the reference applies again)`}, and the rate is timed samples / seconds from the first timed write to the last forecast line. Each path ran the number of times shown, in turn with the others and with a run of the kernel bench (W2, 1 thread) before each round; the row is its median run, with the slowest and fastest beside it, and the median of its per-round ratios to the kernel, with their range.`, '');
}

// ── 5. training time ─────────────────────────────────────────────────────────────────────
if (only.has('train')) {
  // The portable backend takes minutes for 80 epochs: it runs a few and its rate is extrapolated (labelled).
  const plans = [
    ...(machine.kernels.includes('native') ? [{ backprop: 'native', epochs: quick ? 8 : 80 }] : []),
    { backprop: 'js', epochs: quick ? 1 : 4 },
  ];
  const rows = [];
  for (const plan of plans) {
    log(`training time, ${plan.backprop} backend, ${plan.epochs} epochs…`);
    const r = await runNode([join(here, 'lib', 'train-sunspot.mjs'), '--backprop', plan.backprop, '--epochs', String(plan.epochs)]);
    if (r.lines[0]) {
      record('train', r.lines[0]);
      rows.push(r.lines[0]);
    } else {
      failed = true;
      log(`train-sunspot ${plan.backprop} failed: ${r.stderr.slice(0, 400)}`);
    }
  }
  md.push('## Training time: the sunspot_gru recipe (H 32, window 128, stride 2, batch 32, Adam + clip 1.0, validation every epoch), 1 thread', '', trainTable(rows), '');
  md.push('PyTorch 1.13 (1 thread) took 74.45 s for the 80 epochs: quoted from the fixtures README (another run, another time), not measured here. Rows with fewer epochs are extrapolated linearly to 80 (marked ~). CPU s = user + system time of the process; on a shared machine wall time includes waiting for a core.', '');
}

const mdFile = join(outDir, `run-${stamp}.md`);
writeFileSync(mdFile, `${md.join('\n')}\n`);
process.stdout.write(`${md.join('\n')}\n\nraw: ${rawFile}\ntables: ${mdFile}\n`);
process.exitCode = failed ? 1 : 0;
