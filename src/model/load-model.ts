import { readFile } from 'node:fs/promises';
import { ErrorCodes, ModelError } from '../errors.js';
import { packWeights } from '../kernel/pack-weights.js';
import { type KernelPreference, checkKernelPreference, defaultKernelPreference } from '../kernel/select.js';
import { GruModel } from './model.js';
import { modelFromTensors } from './model-tensors.js';
import { parseSafetensors } from './safetensors.js';

export interface LoadModelOptions {
  /** Which kernel steps this model: 'auto' (default: native when it built, else js), 'js' or 'native'. */
  kernel?: KernelPreference;
}

/** Build a model from the bytes of a safetensors file. Throws coded ModelErrors. */
export function modelFromBytes(bytes: Uint8Array, options: LoadModelOptions = {}): GruModel {
  const kernel = options.kernel === undefined ? defaultKernelPreference() : checkKernelPreference(options.kernel);
  const file = parseSafetensors(bytes);
  const { config, gru, tensors } = modelFromTensors(file);
  return new GruModel(config, file.metadata, packWeights(gru), kernel, tensors);
}

/** Load a safetensors model from a path (or its bytes). Rejects with a coded GruStreamError. */
export async function loadModel(source: string | URL | Uint8Array, options: LoadModelOptions = {}): Promise<GruModel> {
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) {
    bytes = source;
  } else if (typeof source !== 'string' && !(source instanceof URL)) {
    // readFile would take a number as a file descriptor (0 = stdin, which may block forever).
    throw new ModelError(ErrorCodes.ERR_MODEL_IO, `loadModel needs a path, a file: URL or the file's bytes, got ${source === null ? 'null' : typeof source}`);
  } else {
    try {
      bytes = await readFile(source);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ModelError(ErrorCodes.ERR_MODEL_IO, `cannot read model file ${String(source)}: ${e.code ?? e.message}`, { path: String(source) });
    }
  }
  return modelFromBytes(bytes, options);
}
