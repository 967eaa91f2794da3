import { writeSafetensors } from '../model/safetensors.js';
import type { Validation } from './evaluate.js';
import { type NetSize, paramTensors } from './params.js';

/** At most this many validation residuals per column go into the file (the most recent ones). */
export const MAX_RESIDUALS = 1000;

export interface ModelFileInfo {
  size: NetSize;
  params: Float32Array;
  columns: string[];
  transform: string;
  mean: number[];
  std: number[];
  dataset: string;
  validation: Validation;
  /** Training provenance, stored as the `training` metadata JSON string. Nothing time-dependent. */
  training: Record<string, unknown>;
}

/**
 * The `validation_residuals` contract (README, metadata table): a JSON string
 * {"normalised": [[...] per column], "original": [[...] per column]} of signed one-step residuals
 * actual - forecast of the shipped model on the validation rows, the last MAX_RESIDUALS per column.
 */
export function residualsJson(v: Validation): string {
  const tail = (cols: number[][]): number[][] => cols.map((c) => c.slice(-MAX_RESIDUALS));
  return JSON.stringify({ normalised: tail(v.residualsNormalised), original: tail(v.residuals) });
}

/** Metadata strings of a trained model, in a fixed key order (the file's bytes depend on it). */
export function modelMetadata(info: ModelFileInfo): Record<string, string> {
  const { size } = info;
  return {
    format: 'gru-forecaster',
    input_size: String(size.inputSize),
    hidden_size: String(size.hiddenSize),
    num_layers: String(size.numLayers),
    output_size: String(size.outputSize),
    variant: 'pytorch',
    module: 'GRU',
    columns: info.columns.join(','),
    transform: info.transform,
    norm_mean: info.mean.map(String).join(','),
    norm_std: info.std.map(String).join(','),
    horizon: '1',
    dataset: info.dataset,
    training: JSON.stringify(info.training),
    validation_residuals: residualsJson(info.validation),
  };
}

/** The safetensors bytes: PyTorch state_dict names and shapes of nn.GRU + nn.Linear, float32. */
export function modelFileBytes(info: ModelFileInfo): Uint8Array {
  return writeSafetensors(paramTensors(info.size, info.params), modelMetadata(info));
}
