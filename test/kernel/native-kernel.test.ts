// The native kernel against the portable one (the reference), on random models; plus the fallback.
// The addon is expected whenever it can be: unless the build was skipped (GRU_STREAM_SKIP_NATIVE=1)
// or the addon itself reports a CPU without AVX2/FMA, a missing or broken addon fails these tests.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GruStreamError, KernelError } from '../../src/errors.js';
import { codeOf } from '../helpers/error-code.js';
import { createJsKernel } from '../../src/kernel/js-kernel.js';
import { kernelDescriptor, sharedFloats } from '../../src/kernel/layout.js';
import { createNativeKernel, nativeAddonPath, nativeKernelStatus } from '../../src/kernel/native-kernel.js';
import { availableKernels, createKernel } from '../../src/kernel/select.js';
import { type Case, caseArb, maxDiff, setup, shape, uniform } from './kernel-case.js';

const TOLERANCE = 1e-5;
const ENV_KEYS = ['GRU_STREAM_KERNEL', 'GRU_STREAM_NATIVE_PATH', 'GRU_STREAM_NATIVE_ISA'] as const;
let savedEnv: Record<string, string | undefined> = {};

beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

function nativeExpected(): boolean {
  if (process.env.GRU_STREAM_SKIP_NATIVE === '1' || process.arch !== 'x64') return false;
  const saved = process.env.GRU_STREAM_KERNEL;
  delete process.env.GRU_STREAM_KERNEL;
  const status = nativeKernelStatus();
  if (saved !== undefined) process.env.GRU_STREAM_KERNEL = saved;
  return status.cause !== 'cpu';
}
const expected = nativeExpected();

/**
 * Steps the same series on both kernels (each with its own copy of the arena) and compares states
 * and head outputs after every step; slots outside the batch must stay bit-identical.
 * Alternate steps pass fresh typed arrays, so both the addon's bound fast path and rebinding run.
 */
function compare(c: Case): void {
  const { ctx, rand } = setup(c);
  const { inputSize: I, outputSize: O } = c.shape;
  const nativeCtx = { ...ctx, arena: sharedFloats(ctx.arena.length) };
  nativeCtx.arena.set(ctx.arena);
  const before = new Uint32Array(ctx.arena.slice().buffer);
  const js = createJsKernel(ctx, c.batch);
  const native = createNativeKernel(nativeCtx, c.batch);
  expect(native, 'native kernel').not.toBeNull();
  // Distinct slots in shuffled order, skipping some, so rows are neither contiguous nor sorted.
  const all = Array.from({ length: ctx.arenaLayout.totalSlots }, (_, i) => i);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  const slots = Int32Array.from(all.slice(0, c.batch));
  const inputs = new Float32Array(c.batch * I);
  const outJs = new Float32Array(Math.max(1, c.batch * O));
  const outNative = new Float32Array(Math.max(1, c.batch * O));
  for (let t = 0; t < c.steps; t++) {
    inputs.set(uniform(inputs.length, 2, rand));
    js.step(c.batch, slots, inputs, outJs);
    if (t % 2 === 0) native!.step(c.batch, slots, inputs, outNative);
    else native!.step(c.batch, slots.slice(), inputs.slice(), outNative);
    expect(maxDiff(nativeCtx.arena, ctx.arena), `states after step ${t}`).toBeLessThan(TOLERANCE);
    if (O > 0) expect(maxDiff(outNative, outJs), `head output after step ${t}`).toBeLessThan(TOLERANCE);
  }
  const after = new Uint32Array(nativeCtx.arena.buffer);
  const inBatch = new Set(slots);
  const stride = ctx.arenaLayout.slotStride;
  for (let s = 0; s < ctx.arenaLayout.totalSlots; s++) {
    if (inBatch.has(s)) continue;
    for (let i = s * stride; i < (s + 1) * stride; i++) if (after[i] !== before[i]) throw new Error(`slot ${s} (not in the batch) changed at float ${i}`);
  }
}

describe('native kernel', () => {
  it.skipIf(!expected)('is available (built by npm ci / scripts/build-native.mjs)', () => {
    expect(nativeKernelStatus()).toMatchObject({ available: true });
    expect(availableKernels()).toEqual(['native', 'js']);
    expect(createKernel(setup({ shape: shape(2, 3, 1, 1, true), batch: 2, steps: 1, seed: 1 }).ctx, 2).name).toBe('native');
  });

  describe.each([true, false])('resetAfter=%s matches the js kernel within 1e-5', (resetAfter) => {
    it.skipIf(!expected).each([
      ['H=1', shape(1, 1, 1, 1, resetAfter), 1],
      ['H=1, batch 37', shape(3, 1, 2, 0, resetAfter), 37],
      ['I=5, H=13, odd sizes', shape(5, 13, 1, 2, resetAfter), 7],
      ['4 layers', shape(4, 10, 4, 1, resetAfter), 9],
      ['W1 shape', shape(1, 32, 1, 1, resetAfter), 1],
      ['W2 shape, wide batch', shape(8, 64, 2, 1, resetAfter), 37],
      ['H=70: panels and tails', shape(3, 70, 2, 3, resetAfter), 13],
      ['H=264: k split into chunks', shape(16, 264, 2, 1, resetAfter), 9],
    ] as const)('%s', (_name, s, batch) => {
      compare({ shape: s, batch, steps: 25, seed: 1000 + batch * 7 + s.hiddenSize });
    });
  });

  it.skipIf(!expected)('matches the js kernel on random shapes, batches 1..37 and shuffled slots', () => {
    fc.assert(fc.property(caseArb(fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 })), 37, 12), compare), { numRuns: 60, seed: 20261126 });
  });

  // The pool shards a batch differently from run to run (workers=0 vs workers=2 are compared with
  // toEqual), so a row's result must not depend on its batch: same bits whether it is stepped alone,
  // first or last of 37, in a full 4-row register block or in the tail, on the packed or in-place path.
  describe.each([true, false])('resetAfter=%s: a row is bit-identical in any batch and position', (resetAfter) => {
    it.skipIf(!expected).each([
      ['W2 shape', shape(8, 64, 2, 1, resetAfter)],
      ['H=70, odd sizes', shape(5, 70, 2, 2, resetAfter)],
      // Layer 1's products have 264 + 264 = 528 weight rows: past the kernel's 512-row k chunk.
      ['wide k (split into chunks)', shape(16, 264, 2, 1, resetAfter)],
    ] as const)('%s', (_name, s) => {
      const maxBatch = 37;
      const { ctx, rand } = setup({ shape: s, batch: maxBatch, steps: 1, seed: 77 + s.hiddenSize });
      const { inputSize: I, outputSize: O } = s;
      const steps = 6;
      const target = uniform(steps * I, 2, rand);
      const initial = ctx.arena.slice();
      const stride = ctx.arenaLayout.slotStride;
      const targetSlot = 0;
      const outcomes: { state: Uint32Array; out: Uint32Array }[] = [];
      for (const [batch, position] of [[1, 0], [2, 1], [3, 2], [4, 0], [4, 3], [5, 4], [8, 5], [13, 12], [37, 0], [37, 35], [37, 36]]) {
        const arena = sharedFloats(initial.length);
        arena.set(initial);
        const kernel = createNativeKernel({ ...ctx, arena }, maxBatch)!;
        // The other rows are other series, in other slots, with their own inputs.
        const slots = Int32Array.from({ length: batch }, (_, b) => (b < position ? b + 1 : b + 2));
        slots[position] = targetSlot;
        const inputs = new Float32Array(batch * I);
        const out = new Float32Array(Math.max(1, batch * O));
        const heads = new Float32Array(Math.max(1, steps * O));
        for (let t = 0; t < steps; t++) {
          inputs.set(uniform(inputs.length, 2, rand));
          inputs.set(target.subarray(t * I, (t + 1) * I), position * I);
          kernel.step(batch, slots, inputs, out);
          heads.set(out.subarray(position * O, (position + 1) * O), t * O);
        }
        const state = new Uint32Array(arena.buffer, targetSlot * stride * 4, stride).slice();
        outcomes.push({ state, out: new Uint32Array(heads.buffer).slice() });
      }
      for (const o of outcomes.slice(1)) {
        expect(o.state).toEqual(outcomes[0].state);
        expect(o.out).toEqual(outcomes[0].out);
      }
    });
  });

  it.skipIf(!expected)('rejects out-of-range slots, oversized batches and short arrays with ERR_KERNEL', () => {
    const { ctx } = setup({ shape: shape(2, 4, 1, 1, true), batch: 3, steps: 1, seed: 5 });
    const k = createNativeKernel(ctx, 3)!;
    const x = new Float32Array(6);
    const y = new Float32Array(3);
    const bad = [
      () => k.step(1, Int32Array.of(ctx.arenaLayout.totalSlots), x, y),
      () => k.step(1, Int32Array.of(-1), x, y),
      () => k.step(4, Int32Array.of(0, 1, 2, 3), new Float32Array(8), new Float32Array(4)),
      () => k.step(3, Int32Array.of(0, 1, 2), new Float32Array(5), y),
    ];
    for (const f of bad) {
      expect(codeOf(KernelError, f)).toBe('ERR_KERNEL');
    }
    // A failed call leaves the kernel usable.
    k.step(3, Int32Array.of(0, 1, 2), x, y);
  });

  it.skipIf(!expected)('refuses a KernelDescriptor with a missing field, a wrong gate order or regions outside the weights', () => {
    const { ctx } = setup({ shape: shape(2, 8, 2, 1, true), batch: 2, steps: 1, seed: 6 });
    const addon = createRequire(import.meta.url)(nativeAddonPath()) as { createKernel(w: Float32Array, a: Float32Array, d: unknown): unknown };
    const good = kernelDescriptor(ctx.layout, ctx.arenaLayout, 2);
    expect(typeof addon.createKernel(ctx.weights, ctx.arena, good)).toBe('function');
    const { gateStride: _dropped, ...missing } = good;
    const bad: unknown[] = [
      missing,
      { ...good, gates: { r: 0, z: 16, n: 8 } },
      { ...good, hiddenSize: -1 },
      { ...good, layers: good.layers.slice(1) },
      { ...good, layers: good.layers.map((l) => ({ ...l, wh: ctx.weights.length })) },
      { ...good, head: null },
      Int32Array.of(2, 8, 2, 1, 1),
    ];
    for (const d of bad) expect(() => addon.createKernel(ctx.weights, ctx.arena, d), JSON.stringify(d)).toThrow(expect.objectContaining({ code: 'ERR_OPTION' }));
  });

  it.skipIf(!expected)('loads and steps in a worker thread (context-aware addon)', async () => {
    const { ctx } = setup({ shape: shape(3, 16, 2, 1, true), batch: 4, steps: 1, seed: 9 });
    const reference = { ...ctx, arena: sharedFloats(ctx.arena.length) };
    reference.arena.set(ctx.arena);
    const slots = Int32Array.of(3, 0, 7, 5);
    const inputs = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    createJsKernel(reference, 4).step(4, slots, inputs, new Float32Array(4));
    // The worker gets the shared weights and arena and calls the raw addon with a structured-cloned descriptor.
    const desc = kernelDescriptor(ctx.layout, ctx.arenaLayout, 4);
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const addon = require(workerData.path);
      const step = addon.createKernel(workerData.weights, workerData.arena, workerData.desc);
      step(4, workerData.slots, workerData.inputs, new Float32Array(4));
      parentPort.postMessage('done');`;
    const worker = new Worker(code, { eval: true, workerData: { path: nativeAddonPath(), weights: ctx.weights, arena: ctx.arena, desc, slots, inputs } });
    const message = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(message).toBe('done');
    expect(maxDiff(ctx.arena, reference.arena)).toBeLessThan(TOLERANCE);
  });
});

describe('kernel fallback', () => {
  const c = { shape: shape(2, 3, 1, 1, true), batch: 2, steps: 1, seed: 3 };

  it("createKernel(ctx, n, 'js') gives the js kernel", () => {
    expect(createKernel(setup(c).ctx, 2, 'js').name).toBe('js');
  });

  it('GRU_STREAM_KERNEL=js makes auto choose js and disables native', () => {
    process.env.GRU_STREAM_KERNEL = 'js';
    expect(createKernel(setup(c).ctx, 2).name).toBe('js');
    expect(nativeKernelStatus()).toMatchObject({ available: false, cause: 'disabled' });
    expect(availableKernels()).toEqual(['js']);
  });

  it("a missing addon (GRU_STREAM_NATIVE_PATH) falls back under 'auto' and refuses 'native' with ERR_OPTION", () => {
    process.env.GRU_STREAM_NATIVE_PATH = join(tmpdir(), 'gru-stream-no-such-addon.node');
    expect(nativeKernelStatus()).toMatchObject({ available: false, cause: 'not-built' });
    expect(availableKernels()).toEqual(['js']);
    expect(createKernel(setup(c).ctx, 2, 'auto').name).toBe('js');
    expect(createNativeKernel(setup(c).ctx, 2)).toBeNull();
    let caught: unknown;
    try {
      createKernel(setup(c).ctx, 2, 'native');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GruStreamError);
    expect((caught as GruStreamError).code).toBe('ERR_OPTION');
  });

  it('a file that is not an addon is reported as a load error, not a crash', () => {
    const bogus = join(tmpdir(), `gru-stream-bogus-${process.pid}.node`);
    writeFileSync(bogus, 'not a shared object');
    process.env.GRU_STREAM_NATIVE_PATH = bogus;
    expect(nativeKernelStatus()).toMatchObject({ available: false, cause: 'load-error' });
    expect(createKernel(setup(c).ctx, 2).name).toBe('js');
  });
});
