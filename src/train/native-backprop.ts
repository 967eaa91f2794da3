import { createRequire } from 'node:module';
import { OptionError } from '../errors.js';
import type { WeightLayout } from '../kernel/layout.js';
import { nativeAddonPath, nativeKernelStatus } from '../kernel/native-kernel.js';
import { packagePath } from '../util/package-root.js';

/**
 * The AVX2/FMA backend of GruBackprop (native/gru_train.cc, in the same addon as the inference
 * kernel). Available exactly when the native kernel is (nativeKernelStatus(): built, CPU has
 * AVX2/FMA, not disabled by GRU_STREAM_KERNEL=js); require() caches the addon, so this shares the
 * one the kernel loaded.
 */

type NativeRun = (w: Float32Array, input: Float32Array, target: Float32Array, h0: Float32Array | null, burnIn: number, rows: number, g: Float64Array) => number;

interface TrainAddon {
  createTrainer?: (desc: Int32Array) => NativeRun;
}

/** The layout numbers the addon follows, in the order native/gru_train_addon.cc documents. */
function describe(weights: WeightLayout, steps: number, batch: number): Int32Array {
  const s = weights.shape;
  const head = weights.head!;
  const desc = [s.inputSize, s.hiddenSize, s.numLayers, s.outputSize, s.resetAfter ? 1 : 0, weights.gateStride, steps, batch, head.w, head.b, weights.totalFloats];
  for (const l of weights.layers) desc.push(l.inSize, l.wx, l.wh, l.bx, l.bhn);
  return Int32Array.from(desc);
}

/** A native backend for (weights, steps, batch), or null when the addon is unavailable or predates training. */
export function createNativeBackprop(weights: WeightLayout, steps: number, batch: number): { run: NativeRun } | null {
  if (!nativeKernelStatus().available) return null;
  const addon = createRequire(packagePath('package.json'))(nativeAddonPath()) as TrainAddon;
  if (typeof addon.createTrainer !== 'function') return null;
  let native: NativeRun;
  try {
    native = addon.createTrainer(describe(weights, steps, batch));
  } catch (err) {
    throw new OptionError(`native training: ${(err as Error).message}`, { option: 'backend' });
  }
  return {
    run(w, input, target, h0, burnIn, rows, g) {
      try {
        return native(w, input, target, h0, burnIn, rows, g);
      } catch (err) {
        throw new OptionError(`native training: ${(err as Error).message}`, { option: 'backend' });
      }
    },
  };
}
