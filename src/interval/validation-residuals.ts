import { ErrorCodes, ModelError } from '../errors.js';
import type { ModelConfig } from '../model/model-config.js';
import type { ScoreSpace } from './score-space.js';

/** The metadata key `gru-stream train` writes: signed one-step residuals on the validation rows. */
export const VALIDATION_RESIDUALS_KEY = 'validation_residuals';
/** At most this many (the most recent) residuals per column are used. */
export const MAX_VALIDATION_RESIDUALS = 1000;

function metadataError(message: string): ModelError {
  return new ModelError(ErrorCodes.ERR_MODEL_METADATA, `model metadata ${VALIDATION_RESIDUALS_KEY}: ${message}`, { key: VALIDATION_RESIDUALS_KEY });
}

function columnsOf(value: unknown, name: string, columns: number): number[][] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== columns) throw metadataError(`"${name}" must hold one array per column (${columns})`);
  return value.map((col: unknown, c) => {
    if (!Array.isArray(col) || col.length === 0 || col.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw metadataError(`"${name}"[${c}] must be a non-empty array of finite numbers`);
    }
    return col.slice(-MAX_VALIDATION_RESIDUALS) as number[];
  });
}

/**
 * The model's validation residuals (actual − forecast, in time order) in `space`, one array per
 * column, or null when the model has none. The metadata value is JSON
 * `{"normalised": [[...] per column], "original": [[...] per column]}`: the log-ratio space is the
 * normalised residual times the column's std (exactly, since ln(a/f) = std·(x − pred)); original
 * units are taken as stored, or derived from the normalised ones for linear transforms.
 */
export function readValidationResiduals(metadata: Readonly<Record<string, string>>, config: ModelConfig, space: ScoreSpace): number[][] | null {
  const raw = metadata[VALIDATION_RESIDUALS_KEY];
  if (raw === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw metadataError('is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw metadataError('must be a JSON object with "normalised" and/or "original"');
  const record = parsed as Record<string, unknown>;
  const C = config.inputSize;
  const normalised = columnsOf(record.normalised, 'normalised', C);
  const original = columnsOf(record.original, 'original', C);
  const std = config.transform === 'none' ? config.normStd.map(() => 1) : config.normStd;
  const scaled = normalised?.map((col, c) => col.map((r) => r * std[c]));
  const found = space.name === 'log-ratio' ? scaled : original ?? scaled;
  if (!found) throw metadataError(`has no ${space.name === 'log-ratio' ? '"normalised"' : '"original" or "normalised"'} residuals`);
  return found;
}
