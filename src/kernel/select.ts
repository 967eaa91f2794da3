import { OptionError } from '../errors.js';
import { createJsKernel } from './js-kernel.js';
import type { GruKernel, KernelContext, KernelName } from './kernel.js';
import { createNativeKernel, nativeKernelStatus } from './native-kernel.js';

/** 'auto' takes the fastest kernel that loaded; GRU_STREAM_KERNEL=js|native overrides it. */
export type KernelPreference = 'auto' | KernelName;

const PREFERENCES: readonly KernelPreference[] = ['auto', 'js', 'native'];

export function defaultKernelPreference(): KernelPreference {
  const env = process.env.GRU_STREAM_KERNEL;
  if (env === undefined || env === '') return 'auto';
  return checkKernelPreference(env, 'GRU_STREAM_KERNEL');
}

export function checkKernelPreference(value: unknown, path = 'options.kernel'): KernelPreference {
  if (typeof value === 'string' && (PREFERENCES as readonly string[]).includes(value)) return value as KernelPreference;
  throw new OptionError(`${path} must be one of ${PREFERENCES.join(', ')} (got ${JSON.stringify(value)})`, { option: path });
}

/** Kernels that can run in this process, fastest first. 'js' is always present. */
export function availableKernels(): KernelName[] {
  return nativeKernelStatus().available ? ['native', 'js'] : ['js'];
}

export function createKernel(ctx: KernelContext, maxBatch: number, preference: KernelPreference = defaultKernelPreference()): GruKernel {
  if (preference === 'js') return createJsKernel(ctx, maxBatch);
  const native = nativeKernelStatus().available ? createNativeKernel(ctx, maxBatch) : null;
  if (native) return native;
  if (preference === 'native') {
    throw new OptionError(`the native kernel is not available: ${nativeKernelStatus().reason}`, { option: 'kernel' });
  }
  return createJsKernel(ctx, maxBatch);
}
