import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { ErrorCodes, ModelError, OptionError } from '../errors.js';
import { packWeights } from './pack-weights.js';
import { type KernelPreference, checkKernelPreference, defaultKernelPreference } from '../kernel/select.js';
import { GruModel } from './model.js';
import { modelFromTensors } from './model-tensors.js';
import { modelFromOnnx } from './onnx/onnx-model.js';
import { parseSafetensors } from './safetensors.js';

export type ModelFormat = 'safetensors' | 'onnx';

export interface LoadModelOptions {
  /** Which kernel steps this model: 'auto' (default: native when it built, else js), 'js' or 'native'. */
  kernel?: KernelPreference;
  /** The file's format; default: by the path's extension (.onnx), else by its first bytes. */
  format?: ModelFormat;
  /**
   * Metadata (the safetensors `__metadata__` keys: columns, transform, norm_mean, norm_std, ...)
   * for keys the file lacks, e.g. an ONNX export without metadata_props. A key the file has too
   * must agree with it (ERR_MODEL_METADATA otherwise).
   */
  metadata?: Readonly<Record<string, string>>;
}

/** ONNX files start with field 1 (ir_version, a varint: 0x08); safetensors has '{' after its 8-byte length. */
function sniff(bytes: Uint8Array): ModelFormat {
  return bytes[0] === 0x08 && bytes[8] !== 0x7b ? 'onnx' : 'safetensors';
}

function checkOptions(options: LoadModelOptions): { kernel: KernelPreference; metadata: Record<string, string> } {
  if (options.format !== undefined && options.format !== 'safetensors' && options.format !== 'onnx') {
    throw new OptionError(`options.format must be "safetensors" or "onnx" (got ${JSON.stringify(options.format)})`, { option: 'format' });
  }
  const metadata: Record<string, string> = Object.create(null);
  if (options.metadata !== undefined) {
    if (typeof options.metadata !== 'object' || options.metadata === null) throw new OptionError('options.metadata must be an object of strings', { option: 'metadata' });
    for (const [key, value] of Object.entries(options.metadata)) {
      if (typeof value !== 'string') throw new OptionError(`options.metadata.${key} must be a string`, { option: `metadata.${key}` });
      metadata[key] = value;
    }
  }
  return { kernel: options.kernel === undefined ? defaultKernelPreference() : checkKernelPreference(options.kernel), metadata };
}

/** The file's own metadata with `extra` filling its gaps; a conflicting key is refused, not silently chosen. */
function withExtra(own: Record<string, string>, extra: Record<string, string>): Record<string, string> {
  const merged: Record<string, string> = Object.assign(Object.create(null), own);
  for (const [key, value] of Object.entries(extra)) {
    if (Object.hasOwn(own, key) && own[key] !== value) {
      throw new ModelError(ErrorCodes.ERR_MODEL_METADATA, `model metadata ${key}: the file says "${own[key]}", the options say "${value}"`, { key });
    }
    merged[key] = value;
  }
  return merged;
}

/** Build a model from the bytes of a safetensors or ONNX file. Throws coded ModelErrors. */
export function modelFromBytes(bytes: Uint8Array, options: LoadModelOptions = {}): GruModel {
  const { kernel, metadata: extra } = checkOptions(options);
  if ((options.format ?? sniff(bytes)) === 'onnx') {
    const { config, gru, metadata, tensors } = modelFromOnnx(bytes, (own) => withExtra(own, extra));
    return new GruModel(config, metadata, packWeights(gru), kernel, tensors);
  }
  const file = parseSafetensors(bytes);
  const metadata = withExtra(file.metadata, extra);
  const { config, gru, tensors } = modelFromTensors({ ...file, metadata });
  return new GruModel(config, metadata, packWeights(gru), kernel, tensors);
}

/**
 * Read a model file, refusing anything but a regular file before reading a byte: /dev/zero would
 * be read until memory runs out, and opening a FIFO for reading would wait for a writer forever,
 * so it is opened non-blocking and checked through the descriptor (no race with a rename).
 */
async function readRegularFile(path: string | URL): Promise<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'not a regular file' });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Load a safetensors or ONNX model from a path (or its bytes). Rejects with a coded GruStreamError. */
export async function loadModel(source: string | URL | Uint8Array, options: LoadModelOptions = {}): Promise<GruModel> {
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) {
    bytes = source;
  } else if (typeof source !== 'string' && !(source instanceof URL)) {
    // readFile would take a number as a file descriptor (0 = stdin, which may block forever).
    throw new ModelError(ErrorCodes.ERR_MODEL_IO, `loadModel needs a path, a file: URL or the file's bytes, got ${source === null ? 'null' : typeof source}`);
  } else {
    try {
      bytes = await readRegularFile(source);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ModelError(ErrorCodes.ERR_MODEL_IO, `cannot read model file ${String(source)}: ${e.code ?? e.message}`, { path: String(source) });
    }
    const path = source instanceof URL ? source.pathname : source;
    if (options.format === undefined && extname(path).toLowerCase() === '.onnx') return modelFromBytes(bytes, { ...options, format: 'onnx' });
  }
  return modelFromBytes(bytes, options);
}
