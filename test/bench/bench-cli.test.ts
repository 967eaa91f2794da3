import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runWorkload } from '../../src/bench/run-workload.js';
import { loadWorkloadData, loadWorkloadSpecs } from '../../src/bench/workloads.js';
import { main } from '../../src/cli/main.js';
import { ErrorCodes, GruStreamError, InputError } from '../../src/errors.js';
import { codeOf } from '../helpers/error-code.js';
import { repoRoot } from '../helpers/fixtures.js';

/** A subset of the shared benchmark set, made by PyTorch (test/fixtures/README.md); GRU_STREAM_WORKLOADS points at the whole set. */
const workloadsFile = resolve(process.env.GRU_STREAM_WORKLOADS ?? join(repoRoot, 'test', 'fixtures', 'bench', 'workloads.json'));
const FIELDS = ['peer', 'version', 'workload', 'threads', 'series', 'ticks_total', 'warmup_ticks', 'ticks_measured', 'truncated', 'series_steps_per_s', 'p50_tick_us', 'p99_tick_us', 'mean_tick_us', 'final_tick', 'notes', 'final_forecasts'];
const tmp = mkdtempSync(join(tmpdir(), 'gru-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: { out: string[]; err: string[] } = { out: [], err: [] };
  stdout.on('data', (c) => chunks.out.push(String(c)));
  stderr.on('data', (c) => chunks.err.push(String(c)));
  const code = await main(['bench', ...args], { stdin: Readable.from([]), stdout, stderr, env: {} });
  return { code, stdout: chunks.out.join(''), stderr: chunks.err.join('') };
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** A copy of the workloads file with one workload whose reference is replaced by `reference`. */
function workloadsWithReference(id: string, reference: Float32Array): string {
  const json = JSON.parse(readFileSync(workloadsFile, 'utf8'));
  const w = json.workloads.find((x: { id: string }) => x.id === id);
  for (const k of Object.keys(w.files)) w.files[k] = resolve(workloadsFile, '..', w.files[k]);
  w.files.reference = join(tmp, `${id}.bad.ref.f32`);
  writeFileSync(w.files.reference, new Uint8Array(reference.buffer));
  const file = join(tmp, `${id}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ ...json, workloads: [w] }));
  return file;
}

describe('gru-stream bench on the shared workloads', () => {
  const specs = loadWorkloadSpecs(workloadsFile);

  it.each([
    ['W1', 1, 60],
    ['W2', 1, 7],
    ['W3', 1, 6],
    ['W2', 2, 7],
  ])('%s with %i thread(s): one JSON line, documented fields, final forecasts match PyTorch', async (id, threads, maxTicks) => {
    const spec = specs.find((s) => s.id === id)!;
    const { code, stdout, stderr } = await runCli(['--workloads', workloadsFile, '--workload', id, '--threads', String(threads), '--budget-s', '0.2', '--max-ticks', String(maxTicks), '--kernel', 'auto']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]);
    expect(Object.keys(r).sort()).toEqual([...FIELDS].sort());
    expect(r).toMatchObject({ peer: 'gru-stream', workload: id, threads, series: spec.series, ticks_total: spec.ticks, warmup_ticks: spec.warmupTicks, truncated: true });
    expect(r.version).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    expect(r.ticks_measured).toBeGreaterThanOrEqual(1);
    expect(r.final_tick).toBe(spec.warmupTicks + r.ticks_measured - 1);
    expect(r.final_tick).toBeLessThan(maxTicks);
    for (const k of ['series_steps_per_s', 'p50_tick_us', 'p99_tick_us', 'mean_tick_us']) expect(r[k]).toBeGreaterThan(0);
    expect(r.notes).toMatch(/kernel=(js|native)/);
    const ref = readF32(spec.files.reference!);
    expect(r.final_forecasts).toHaveLength(spec.series);
    r.final_forecasts.forEach((f: number, s: number) => expect(Math.abs(f - ref[r.final_tick * spec.series + s])).toBeLessThanOrEqual(1e-5));
  });

  it('fails with ERR_BENCH_MISMATCH when the reference is off at one tick', async () => {
    const spec = specs.find((s) => s.id === 'W1')!;
    const ref = readF32(spec.files.reference!).slice();
    ref[53] += 1e-3;
    const file = workloadsWithReference('W1', ref);
    const { code, stdout, stderr } = await runCli(['--workloads', file, '--budget-s', '5', '--max-ticks', '60']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(ErrorCodes.ERR_BENCH_MISMATCH);
    const err = await runWorkload(loadWorkloadData(loadWorkloadSpecs(file)[0]), { threads: 1, budgetS: 5, kernel: 'js', maxTicks: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GruStreamError);
    expect((err as GruStreamError).code).toBe(ErrorCodes.ERR_BENCH_MISMATCH);
    expect((err as GruStreamError).details).toMatchObject({ workload: 'W1', tick: 53, series: '0' });
  });

  it('treats a NaN in the reference as a mismatch, not a pass', async () => {
    const spec = specs.find((s) => s.id === 'W2')!;
    const ref = readF32(spec.files.reference!).slice();
    ref[0 * spec.series + 700] = NaN;
    const file = workloadsWithReference('W2', ref);
    const err = await runWorkload(loadWorkloadData(loadWorkloadSpecs(file)[0]), { threads: 1, budgetS: 5, kernel: 'js', maxTicks: 6 }).catch((e: unknown) => e);
    expect((err as GruStreamError).code).toBe(ErrorCodes.ERR_BENCH_MISMATCH);
    expect((err as GruStreamError).details).toMatchObject({ tick: 0, series: '700' });
  });

  it('refuses a data file whose size disagrees with the spec, naming the option', async () => {
    const json = JSON.parse(readFileSync(workloadsFile, 'utf8'));
    const w = json.workloads[0];
    for (const k of Object.keys(w.files)) w.files[k] = resolve(workloadsFile, '..', w.files[k]);
    w.files.inputs = join(tmp, 'short.inputs.f32');
    copyFileSync(w.files.weights, w.files.inputs);
    const file = join(tmp, 'short.json');
    writeFileSync(file, JSON.stringify({ ...json, workloads: [w] }));
    const { code, stderr } = await runCli(['--workloads', file]);
    expect(code).toBe(1);
    expect(stderr).toContain(ErrorCodes.ERR_OPTION);
  });

  it('reports a workloads or data file that cannot be read as ERR_INPUT_IO, not as a bad option', () => {
    expect(codeOf(InputError, () => loadWorkloadSpecs(join(tmp, 'absent.json')))).toBe(ErrorCodes.ERR_INPUT_IO);
    const json = JSON.parse(readFileSync(workloadsFile, 'utf8'));
    const w = json.workloads[0];
    for (const k of Object.keys(w.files)) w.files[k] = resolve(workloadsFile, '..', w.files[k]);
    w.files.inputs = join(tmp, 'absent.inputs.f32');
    const file = join(tmp, 'absent-data.json');
    writeFileSync(file, JSON.stringify({ ...json, workloads: [w] }));
    expect(codeOf(InputError, () => loadWorkloadData(loadWorkloadSpecs(file)[0]))).toBe(ErrorCodes.ERR_INPUT_IO);
  });

  it('rejects bad options as usage errors (exit 2)', async () => {
    expect((await runCli(['--workloads', workloadsFile, '--threads', '0'])).code).toBe(2);
    expect((await runCli(['--workloads', workloadsFile, '--kernel', 'gpu'])).code).toBe(2);
    expect((await runCli(['--workloads', workloadsFile, '--workload', 'W9'])).code).toBe(2);
  });
});
