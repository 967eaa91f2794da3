import type { GruKernel, KernelContext } from './kernel.js';

/**
 * Placeholder until the AVX2/FMA addon lands (issue 5): reports itself unavailable so
 * `createKernel` falls back to the portable kernel.
 */
export function nativeKernelStatus(): { available: boolean; reason?: string } {
  return { available: false, reason: 'native kernel not built in this version' };
}

export function createNativeKernel(_ctx: KernelContext, _maxBatch: number): GruKernel | null {
  return null;
}
