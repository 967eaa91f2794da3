import { type LoadModelOptions, modelFromBytes } from '../model/load-model.js';
import type { GruModel } from '../model/model.js';
import { type Tensor, writeSafetensors } from '../model/safetensors.js';
import type { ParamLayout } from './param-layout.js';

/**
 * A model file from a flat parameter vector: tensors named, shaped and ordered as `layout` says,
 * float32, with `metadata` as the `__metadata__` strings (format, sizes, variant, columns, transform,
 * norm_mean, ...: see the README's metadata table). PyTorch loads the tensors with load_state_dict.
 */
export function paramsToSafetensors(layout: ParamLayout, params: Float32Array, metadata: Record<string, string>): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const t of layout.tensors) tensors[t.name] = { shape: t.shape, data: params.subarray(t.offset, t.offset + t.length) };
  return writeSafetensors(tensors, metadata);
}

/** A GruModel from a flat parameter vector, through the same bytes and loader as a saved file. */
export function modelFromParams(layout: ParamLayout, params: Float32Array, metadata: Record<string, string>, options: LoadModelOptions = {}): GruModel {
  return modelFromBytes(paramsToSafetensors(layout, params, metadata), options);
}
