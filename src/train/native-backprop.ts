import { KernelError } from '../errors.js';
import { type KernelDescriptor, type WeightLayout, arenaLayout, kernelDescriptor } from '../kernel/layout.js';
import { nativeAddonModule, nativeKernelStatus } from '../kernel/native-kernel.js';

/**
 * The AVX2/FMA backend of GruBackprop (native/gru_train.cc, in the same addon as the inference
 * kernel). Available exactly when the native kernel is (nativeKernelStatus(): built, CPU has
 * AVX2/FMA, not disabled by GRU_STREAM_KERNEL=js); it is the addon the kernel loaded
 * (nativeAddonModule).
 */

type NativeRun = (w: Float32Array, input: Float32Array, target: Float32Array, h0: Float32Array | null, burnIn: number, rows: number, g: Float64Array) => number;

/** The inference kernel's named descriptor (its arena fields are unused here) plus the window length and the weights' length. */
export type TrainDescriptor = KernelDescriptor & { steps: number; weightFloats: number };

interface TrainAddon {
  createTrainer?: (desc: TrainDescriptor) => NativeRun;
}

export function trainDescriptor(weights: WeightLayout, steps: number, batch: number): TrainDescriptor {
  return { ...kernelDescriptor(weights, arenaLayout(weights.shape, 0, 0, 0), batch), steps, weightFloats: weights.totalFloats };
}

/** A native backend for (weights, steps, batch), or null when the addon is unavailable or predates training. */
export function createNativeBackprop(weights: WeightLayout, steps: number, batch: number): { run: NativeRun } | null {
  if (!nativeKernelStatus().available) return null;
  const addon = nativeAddonModule() as TrainAddon | null;
  if (typeof addon?.createTrainer !== 'function') return null;
  let native: NativeRun;
  try {
    native = addon.createTrainer(trainDescriptor(weights, steps, batch));
  } catch (err) {
    throw new KernelError(`native training: ${(err as Error).message}`);
  }
  return {
    run(w, input, target, h0, burnIn, rows, g) {
      try {
        return native(w, input, target, h0, burnIn, rows, g);
      } catch (err) {
        throw new KernelError(`native training: ${(err as Error).message}`);
      }
    },
  };
}
