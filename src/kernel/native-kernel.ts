import { createRequire } from 'node:module';
import { KernelError, OptionError } from '../errors.js';
import { packagePath } from '../util/package-root.js';
import type { GruKernel, KernelContext } from './kernel.js';
import { type KernelDescriptor, kernelDescriptor } from './layout.js';

/**
 * The native kernel (native/*.cc, built by scripts/build-native.mjs into build/Release): AVX2/FMA,
 * with an AVX-512 path (products and activations) on CPUs that have avx512f (bit-identical results).
 * Loaded lazily and at most once per path per thread; every failure becomes a reason, never a crash,
 * so `createKernel('auto')` falls back to the portable kernel.
 *
 * Environment:
 * - GRU_STREAM_KERNEL=js: the native kernel reports itself disabled.
 * - GRU_STREAM_NATIVE_PATH: load the addon from this file instead of build/Release (tests point it at
 *   a missing file to exercise the fallback; also useful for a prebuilt binary).
 * - GRU_STREAM_NATIVE_ISA=avx2|avx512: the vector path of the products (default: the widest the CPU
 *   has); avx2 on an AVX-512 machine is how tests and benchmarks compare the two.
 */

/** Why the native kernel is unavailable: off by env, no binary, binary refused the CPU, binary failed to load. */
export type NativeUnavailableCause = 'disabled' | 'not-built' | 'cpu' | 'load-error';

export interface NativeKernelStatus {
  available: boolean;
  reason?: string;
  cause?: NativeUnavailableCause;
  /** The file the addon was (or would have been) loaded from. */
  path?: string;
  /** When available: the vector paths this CPU can run, widest first. */
  isas?: NativeIsa[];
}

/** The native kernel's vector paths (native/gemm_*.cc). */
export type NativeIsa = 'avx2' | 'avx512';
const ISAS: readonly NativeIsa[] = ['avx2', 'avx512'];

type NativeStep = ((count: number, slots?: Int32Array, inputs?: Float32Array, out?: Float32Array) => void) & { isa: NativeIsa };

interface NativeAddon {
  cpuSupported: boolean;
  isas: NativeIsa[];
  createKernel(weights: Float32Array, arena: Float32Array, desc: KernelDescriptor, isa?: NativeIsa): NativeStep;
}

const DEFAULT_PATH = 'build/Release/gru_stream_native.node';

export function nativeAddonPath(): string {
  const override = process.env.GRU_STREAM_NATIVE_PATH;
  return override !== undefined && override !== '' ? override : packagePath(DEFAULT_PATH);
}

/** What requiring the addon at a path gave: its exports, or the error (kept: the status says why). */
type Required = { exports: Record<string, unknown> } | { error: NodeJS.ErrnoException };
const required = new Map<string, Required>();

/** The one require of the addon: once per path and thread, shared by the kernel and everything else. */
function requireAddon(path: string): Required {
  let hit = required.get(path);
  if (hit === undefined) {
    try {
      hit = { exports: createRequire(packagePath('package.json'))(path) as Record<string, unknown> };
    } catch (err) {
      hit = { error: err as NodeJS.ErrnoException };
    }
    required.set(path, hit);
  }
  return hit;
}

/**
 * The addon's exports as loaded, whatever the CPU (its NDJSON, polling and training functions check
 * what they need), or null when it is not built or cannot load (nativeKernelStatus says why).
 */
export function nativeAddonModule(): Record<string, unknown> | null {
  const hit = requireAddon(nativeAddonPath());
  return 'exports' in hit ? hit.exports : null;
}

function load(): { addon: NativeAddon | null; status: NativeKernelStatus } {
  const path = nativeAddonPath();
  const hit = requireAddon(path);
  if ('error' in hit) {
    const e = hit.error;
    return e.code === 'MODULE_NOT_FOUND'
      ? { addon: null, status: { available: false, cause: 'not-built', path, reason: `not built (${path} is missing; build it with node scripts/build-native.mjs)` } }
      : { addon: null, status: { available: false, cause: 'load-error', path, reason: `cannot load ${path}: ${e.message}` } };
  }
  const addon = hit.exports as unknown as NativeAddon;
  return addon.cpuSupported
    ? { addon, status: { available: true, path, isas: addon.isas } }
    : { addon: null, status: { available: false, cause: 'cpu', path, reason: 'this CPU lacks AVX2 or FMA' } };
}

export function nativeKernelStatus(): NativeKernelStatus {
  if (process.env.GRU_STREAM_KERNEL === 'js') return { available: false, cause: 'disabled', reason: 'disabled by GRU_STREAM_KERNEL=js' };
  return load().status;
}

/**
 * GRU_STREAM_NATIVE_ISA, checked against what this CPU runs: undefined (the widest) when unset.
 * A value the CPU cannot honour is refused rather than quietly replaced, so a comparison of the two
 * paths never compares a path with itself.
 */
export function nativeIsaPreference(status: NativeKernelStatus = nativeKernelStatus()): NativeIsa | undefined {
  const env = process.env.GRU_STREAM_NATIVE_ISA;
  if (env === undefined || env === '') return undefined;
  const option = 'GRU_STREAM_NATIVE_ISA';
  if (!(ISAS as readonly string[]).includes(env)) {
    throw new OptionError(`${option} must be one of ${ISAS.join(', ')} (got ${JSON.stringify(env)})`, { option });
  }
  if (status.available && !status.isas?.includes(env as NativeIsa)) {
    throw new OptionError(`${option}=${env}, but this CPU runs only ${status.isas?.join(', ')}`, { option });
  }
  return env as NativeIsa;
}

/** The vector path a native kernel created now would run, or undefined when native is unavailable. */
export function nativeIsa(): NativeIsa | undefined {
  const status = nativeKernelStatus();
  return status.available ? (nativeIsaPreference(status) ?? status.isas?.[0]) : undefined;
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
  const status = nativeKernelStatus();
  if (!addon || !status.available) return null;
  const isa = nativeIsaPreference(status);
  let native: NativeStep;
  try {
    native = addon.createKernel(ctx.weights, ctx.arena, kernelDescriptor(ctx.layout, ctx.arenaLayout, maxBatch), isa);
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

  return { name: 'native', isa: native.isa, step };
}
