// The native kernel's two vector paths (native/simd_avx2.cc, simd_avx512.cc) give the same bits:
// every product is bias + its terms in k order, one FMA at a time, and every activation the same
// per-lane operations (the same 12-bit reciprocal estimate), on either width. The
// comparison needs a CPU with AVX-512; elsewhere it is skipped (and says so), while the choice of
// path and its refusals are checked everywhere the addon runs.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kernelDescriptor, sharedFloats } from '../../src/kernel/layout.js';
import { createNativeKernel, nativeAddonPath, nativeIsaPreference, nativeKernelStatus } from '../../src/kernel/native-kernel.js';
import { codeOf } from '../helpers/error-code.js';
import { OptionError } from '../../src/errors.js';
import { type Case, caseArb, setup, shape, uniform } from './kernel-case.js';

const ENV = 'GRU_STREAM_NATIVE_ISA';
let saved: string | undefined;
beforeEach(() => {
  saved = process.env[ENV];
  delete process.env[ENV];
});
afterEach(() => {
  if (saved === undefined) delete process.env[ENV];
  else process.env[ENV] = saved;
});

const status = process.env.GRU_STREAM_KERNEL === 'js' ? { available: false } : nativeKernelStatus();
const native = status.available;
const both = native && (status.isas ?? []).includes('avx512');

/**
 * Steps the same series through an AVX2 and an AVX-512 kernel, each on its own copy of the arena,
 * and compares every float of the arena and of the head outputs bit for bit after every step.
 */
function compareIsas(c: Case): void {
  const { ctx, rand } = setup(c);
  const kernels = (['avx2', 'avx512'] as const).map((isa) => {
    process.env[ENV] = isa;
    const arena = sharedFloats(ctx.arena.length);
    arena.set(ctx.arena);
    const kernel = createNativeKernel({ ...ctx, arena }, c.batch)!;
    expect(kernel.isa).toBe(isa);
    return { kernel, arena, out: new Float32Array(Math.max(1, c.batch * c.shape.outputSize)) };
  });
  // Every other slot, in descending order: rows are neither contiguous nor sorted.
  const slots = Int32Array.from({ length: c.batch }, (_, b) => 2 * (c.batch - 1 - b) + 1);
  const inputs = new Float32Array(c.batch * c.shape.inputSize);
  for (let t = 0; t < c.steps; t++) {
    inputs.set(uniform(inputs.length, 2, rand));
    for (const k of kernels) k.kernel.step(c.batch, slots, inputs, k.out);
    const [a, b] = kernels;
    expect(new Uint32Array(b.arena.buffer), `arena after step ${t}`).toEqual(new Uint32Array(a.arena.buffer));
    expect(new Uint32Array(b.out.buffer), `head outputs after step ${t}`).toEqual(new Uint32Array(a.out.buffer));
  }
}

describe('native kernel vector paths', () => {
  it.skipIf(!both).each([
    ['W2 shape', shape(8, 64, 2, 1, true), 37],
    ['W3-like, k split into chunks', shape(16, 264, 2, 1, false), 13],
    ['H=70, 3 heads', shape(3, 70, 2, 3, true), 23],
    ['one series, H=33', shape(1, 33, 3, 1, false), 1],
  ] as const)('AVX-512 equals AVX2 bit for bit: %s', (_name, s, batch) => {
    compareIsas({ shape: s, batch, steps: 4, seed: 4100 + s.hiddenSize + batch });
  });

  it.skipIf(!both)('AVX-512 equals AVX2 bit for bit on random shapes (H not a multiple of 16, 1-4 layers, both variants)', () => {
    const hidden = fc.integer({ min: 1, max: 90 }).filter((h) => h % 16 !== 0);
    fc.assert(fc.property(caseArb(hidden, 29, 5), compareIsas), { numRuns: 40, seed: 20261129 });
  });

  it.skipIf(!native)('runs the widest path by default and the one GRU_STREAM_NATIVE_ISA names', () => {
    const { ctx } = setup({ shape: shape(2, 5, 1, 1, true), batch: 2, steps: 1, seed: 8 });
    expect(createNativeKernel(ctx, 2)!.isa).toBe(status.isas![0]);
    process.env[ENV] = 'avx2';
    expect(createNativeKernel(ctx, 2)!.isa).toBe('avx2');
  });

  it.skipIf(!native)('refuses an unknown GRU_STREAM_NATIVE_ISA, or one the CPU lacks, with ERR_OPTION', () => {
    const { ctx } = setup({ shape: shape(2, 5, 1, 1, true), batch: 2, steps: 1, seed: 8 });
    process.env[ENV] = 'avx9';
    expect(codeOf(OptionError, () => createNativeKernel(ctx, 2))).toBe('ERR_OPTION');
    process.env[ENV] = 'avx512';
    expect(codeOf(OptionError, () => nativeIsaPreference({ available: true, isas: ['avx2'] }))).toBe('ERR_OPTION');
    const addon = createRequire(import.meta.url)(nativeAddonPath()) as { createKernel(...args: unknown[]): unknown };
    const desc = kernelDescriptor(ctx.layout, ctx.arenaLayout, 2);
    for (const isa of ['avx9', 7]) {
      expect(() => addon.createKernel(ctx.weights, ctx.arena, desc, isa)).toThrow(expect.objectContaining({ code: 'ERR_OPTION' }));
    }
  });
});
