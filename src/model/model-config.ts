import { ErrorCodes, ModelError } from '../errors.js';

export type Variant = 'pytorch' | 'seed';
export type Transform = 'none' | 'zscore' | 'log_return+zscore' | 'diff+zscore';

/** Everything a model file says about itself, validated and typed. */
export interface ModelConfig {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Rows of the linear head; 0 without a head. */
  outputSize: number;
  variant: Variant;
  /** `module` metadata (GRU, GRUCell, seed), informational. */
  module: string;
  /** Names of the input (and forecast) columns, inputSize of them. */
  columns: string[];
  transform: Transform;
  normMean: number[];
  normStd: number[];
  /** Steps ahead the head was trained to forecast. */
  horizon: number;
}

const VARIANTS: readonly Variant[] = ['pytorch', 'seed'];
const TRANSFORMS: readonly Transform[] = ['none', 'zscore', 'log_return+zscore', 'diff+zscore'];
/** A sanity bound that keeps a hostile header from asking for absurd arenas; far above real GRUs. */
const MAX_SIZE = 1 << 16;

function metadataError(message: string, key: string): ModelError {
  return new ModelError(ErrorCodes.ERR_MODEL_METADATA, `model metadata ${key}: ${message}`, { key });
}

/** `inferred` comes from the tensors and must agree; `fallback` is a default when both are absent. */
function readInt(meta: Record<string, string>, key: string, inferred: number | undefined, min: number, fallback?: number): number {
  const raw = meta[key];
  if (raw === undefined) {
    const value = inferred ?? fallback;
    if (value === undefined) throw metadataError('is missing and cannot be inferred from the tensors', key);
    // Sizes read off tensor shapes get the same bounds as stated ones: zero-width tensors would
    // otherwise load as a GRU with hidden_size 0 (or input_size 0) that silently does nothing.
    if (value < min || value > MAX_SIZE) {
      throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `the tensors imply ${key}=${value}, outside [${min}, ${MAX_SIZE}]`, { key });
    }
    return value;
  }
  if (!/^\d+$/.test(raw.trim())) throw metadataError(`"${raw}" is not a whole number`, key);
  const value = Number(raw);
  if (value < min || value > MAX_SIZE) throw metadataError(`${value} is outside [${min}, ${MAX_SIZE}]`, key);
  if (inferred !== undefined && inferred !== value) {
    throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `model metadata ${key}=${value} disagrees with the tensors, which imply ${inferred}`, { key });
  }
  return value;
}

function readFloats(meta: Record<string, string>, key: string, count: number, fallback: number): number[] {
  const raw = meta[key];
  if (raw === undefined) return new Array<number>(count).fill(fallback);
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length !== count) throw metadataError(`has ${parts.length} values, expected ${count} (one per column)`, key);
  return parts.map((p) => {
    const v = p === '' ? NaN : Number(p);
    if (!Number.isFinite(v)) throw new ModelError(ErrorCodes.ERR_MODEL_VALUES, `model metadata ${key} has a non-finite value "${p}"`, { key });
    return v;
  });
}

function readChoice<T extends string>(meta: Record<string, string>, key: string, choices: readonly T[], fallback: T): T {
  const raw = meta[key] ?? fallback;
  if (!(choices as readonly string[]).includes(raw)) throw metadataError(`"${raw}" is not one of ${choices.join(', ')}`, key);
  return raw as T;
}

/** Sizes the tensors imply, used to fill gaps in the metadata and to cross-check it. */
export interface InferredSizes {
  inputSize?: number;
  hiddenSize?: number;
  numLayers?: number;
  outputSize?: number;
  variant?: Variant;
}

export function readModelConfig(meta: Record<string, string>, inferred: InferredSizes): ModelConfig {
  if (meta.format !== undefined && meta.format !== 'gru-forecaster') {
    throw metadataError(`"${meta.format}" is not "gru-forecaster"`, 'format');
  }
  const variant = readChoice(meta, 'variant', VARIANTS, inferred.variant ?? 'pytorch');
  if (inferred.variant !== undefined && inferred.variant !== variant) {
    throw new ModelError(ErrorCodes.ERR_MODEL_SHAPE, `model metadata variant=${variant} but the tensors are named for the ${inferred.variant} variant`, { key: 'variant' });
  }
  const inputSize = readInt(meta, 'input_size', inferred.inputSize, 1);
  const hiddenSize = readInt(meta, 'hidden_size', inferred.hiddenSize, 1);
  const numLayers = readInt(meta, 'num_layers', inferred.numLayers, 1);
  const outputSize = readInt(meta, 'output_size', inferred.outputSize ?? 0, 0);
  const columns = meta.columns !== undefined
    ? meta.columns.split(',').map((c) => c.trim())
    : inputSize === 1 ? ['value'] : Array.from({ length: inputSize }, (_, i) => `x${i}`);
  if (columns.length !== inputSize || columns.some((c) => c === '') || new Set(columns).size !== columns.length) {
    throw metadataError(`"${meta.columns}" must name ${inputSize} distinct, non-empty columns`, 'columns');
  }
  const transform = readChoice(meta, 'transform', TRANSFORMS, 'none');
  const normMean = readFloats(meta, 'norm_mean', inputSize, 0);
  const normStd = readFloats(meta, 'norm_std', inputSize, 1);
  if (normStd.some((s) => !(s > 0))) throw metadataError('every value must be > 0', 'norm_std');
  if (transform !== 'none' && (meta.norm_mean === undefined || meta.norm_std === undefined)) {
    throw metadataError(`transform "${transform}" needs norm_mean and norm_std`, 'transform');
  }
  const horizon = readInt(meta, 'horizon', undefined, 1, 1);
  return { inputSize, hiddenSize, numLayers, outputSize, variant, module: meta.module ?? (variant === 'seed' ? 'seed' : 'GRU'), columns, transform, normMean, normStd, horizon };
}
