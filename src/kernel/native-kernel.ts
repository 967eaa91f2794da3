import { createRequire } from 'node:module';
import { KernelError } from '../errors.js';
import { packagePath } from '../util/package-root.js';
import type { GruKernel, KernelContext } from './kernel.js';
import { type KernelDescriptor, kernelDescriptor } from './layout.js';

/**
 * The AVX2/FMA kernel (native/*.cc, built by scripts/build-native.mjs into build/Release).
 * Loaded lazily and at most once per path per thread; every failure becomes a reason, never a crash,
 * so `createKernel('auto')` falls back to the portable kernel.
 *
 * Environment:
 * - GRU_STREAM_KERNEL=js: the native kernel reports itself disabled.
 * - GRU_STREAM_NATIVE_PATH: load the addon from this file instead of build/Release (tests point it at
 *   a missing file to exercise the fallback; also useful for a prebuilt binary).
 */

/** Why the native kernel is unavailable: off by env, no binary, binary refused the CPU, binary failed to load. */
export type NativeUnavailableCause = 'disabled' | 'not-built' | 'cpu' | 'load-error';

export interface NativeKernelStatus {
  available: boolean;
  reason?: string;
  cause?: NativeUnavailableCause;
  /** The file the addon was (or would have been) loaded from. */
  path?: string;
}

type NativeStep = (count: number, slots?: Int32Array, inputs?: Float32Array, out?: Float32Array) => void;

interface NativeAddon {
  cpuSupported: boolean;
  createKernel(weights: Float32Array, arena: Float32Array, desc: KernelDescriptor): NativeStep;
}

const DEFAULT_PATH = 'build/Release/gru_stream_native.node';
const loaded = new Map<string, { addon: NativeAddon | null; status: NativeKernelStatus }>();

export function nativeAddonPath(): string {
  const override = process.env.GRU_STREAM_NATIVE_PATH;
  return override !== undefined && override !== '' ? override : packagePath(DEFAULT_PATH);
}

function load(): { addon: NativeAddon | null; status: NativeKernelStatus } {
  const path = nativeAddonPath();
  let hit = loaded.get(path);
  if (hit) return hit;
  try {
    const addon = createRequire(packagePath('package.json'))(path) as NativeAddon;
    hit = addon.cpuSupported
      ? { addon, status: { available: true, path } }
      : { addon: null, status: { available: false, cause: 'cpu', path, reason: 'this CPU lacks AVX2 or FMA' } };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    hit =
      e.code === 'MODULE_NOT_FOUND'
        ? { addon: null, status: { available: false, cause: 'not-built', path, reason: `not built (${path} is missing; build it with node scripts/build-native.mjs)` } }
        : { addon: null, status: { available: false, cause: 'load-error', path, reason: `cannot load ${path}: ${e.message}` } };
  }
  loaded.set(path, hit);
  return hit;
}

export function nativeKernelStatus(): NativeKernelStatus {
  if (process.env.GRU_STREAM_KERNEL === 'js') return { available: false, cause: 'disabled', reason: 'disabled by GRU_STREAM_KERNEL=js' };
  return load().status;
}

function kernelFault(err: unknown): KernelError {
  return new KernelError(`native kernel: ${(err as Error).message}`);
}

/**
 * A native GruKernel, or null when the addon is unavailable (see nativeKernelStatus()).
 *
 * Fast path: the addon keeps the data pointers of the last (slots, inputs, out) it was given, so a
 * caller that reuses the same three typed arrays every step (the usual case: fixed I/O buffers)
 * pays for one integer argument per call. Passing different arrays works too; it rebinds.
 */
export function createNativeKernel(ctx: KernelContext, maxBatch: number): GruKernel | null {
  const { addon } = load();
  if (!addon || !nativeKernelStatus().available) return null;
  let native: NativeStep;
  try {
    native = addon.createKernel(ctx.weights, ctx.arena, kernelDescriptor(ctx.layout, ctx.arenaLayout, maxBatch));
  } catch (err) {
    throw kernelFault(err);
  }
  const I = ctx.layout.shape.inputSize;
  const O = ctx.layout.shape.outputSize;
  let lastSlots: Int32Array | null = null;
  let lastInputs: Float32Array | null = null;
  let lastOut: Float32Array | null = null;

  function step(count: number, slots: Int32Array, inputs: Float32Array, out: Float32Array): void {
    // Lengths are read here on every call: a bound array whose buffer was since detached or shrunk
    // reports a short length, and the addon's cached pointer is never used past it.
    if (slots.length < count || inputs.length < count * I || out.length < count * O) {
      throw new KernelError(`native kernel: slots, inputs or out is shorter than ${count} rows`);
    }
    try {
      if (slots === lastSlots && inputs === lastInputs && out === lastOut) {
        native(count);
      } else {
        // Forget the old binding first: if this rebind throws half-way, the next call must rebind too.
        lastSlots = lastInputs = lastOut = null;
        native(count, slots, inputs, out);
        lastSlots = slots;
        lastInputs = inputs;
        lastOut = out;
      }
    } catch (err) {
      throw kernelFault(err);
    }
  }

  return { name: 'native', step };
}
