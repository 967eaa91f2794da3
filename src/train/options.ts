import { availableParallelism } from 'node:os';
import { OptionError } from '../errors.js';
import type { DataFormat } from './data.js';
import { TRAIN_TRANSFORMS, type TrainTransform } from './encode.js';
import type { TrainProgress } from './progress.js';

/** `train()` options. Everything is optional: the defaults choose transform, size and epoch themselves. */
export interface TrainOptions {
  /** Value columns (CSV default: every numeric column other than series and the time columns). */
  columns?: string[];
  /** Input format for streams and unknown extensions (default: sniffed). */
  format?: DataFormat;
  /** GRU hidden size of one member; default: chosen by validation. */
  hidden?: number;
  /** GRU layers (default 1). */
  layers?: number;
  /** 'auto' (default) or one transform. */
  transform?: 'auto' | TrainTransform;
  /** Most epochs per training run (default: as many as the time budget allows, at most 400). */
  epochs?: number;
  /** Time steps per training window (default: from the series' length and season). */
  window?: number;
  /** Windows per Adam step (default: 32, smaller on small data so an epoch has 8 steps). */
  batch?: number;
  /** Adam learning rate (default 0.003). */
  lr?: number;
  /** Adam L2 weight decay (default 0.0001). */
  weightDecay?: number;
  /** Last part of every series kept for validation (default 0.2). */
  validationFraction?: number;
  /** Members averaged into the shipped model, each trained from another seed (default 4). */
  ensemble?: number;
  /** Seed of everything random (default 1). Same seed, same data, same threads: the same bytes. */
  seed?: number;
  /** Worker threads training candidates side by side (default: the machine's cores, at most 4). */
  threads?: number;
  /** Seconds the whole run may take (default 60). */
  timeBudget?: number;
  /** Name recorded as the model's `dataset` metadata (default: the input file's base name). */
  dataset?: string;
  onProgress?: (event: TrainProgress) => void;
}

export interface ResolvedTrainOptions {
  columns: string[] | undefined;
  format: DataFormat | undefined;
  hidden: number | undefined;
  layers: number;
  transform: 'auto' | TrainTransform;
  epochs: number | undefined;
  window: number | undefined;
  batch: number | undefined;
  lr: number;
  weightDecay: number;
  validationFraction: number;
  ensemble: number;
  seed: number;
  threads: number;
  timeBudget: number;
  dataset: string | undefined;
  onProgress: ((event: TrainProgress) => void) | undefined;
}

function bad(path: string, want: string, got: unknown): OptionError {
  return new OptionError(`options.${path} must be ${want} (got ${JSON.stringify(got) ?? String(got)})`, { option: path });
}

function int(o: TrainOptions, key: keyof TrainOptions, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw bad(key, `an integer from ${min} to ${max}`, v);
  return v as number;
}

function real(o: TrainOptions, key: keyof TrainOptions, min: number, max: number, fallback: number, minExclusive = false): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (minExclusive && v === min)) throw bad(key, `a number ${minExclusive ? '>' : '>='} ${min} and <= ${max}`, v);
  return v;
}

/** Validates train() options once, at the library boundary. */
export function resolveTrainOptions(options: TrainOptions = {}): ResolvedTrainOptions {
  if (typeof options !== 'object' || options === null) throw bad('', 'an object', options);
  const o = options;
  if (o.columns !== undefined && (!Array.isArray(o.columns) || o.columns.length === 0 || o.columns.some((c) => typeof c !== 'string' || c === '') || new Set(o.columns).size !== o.columns.length)) {
    throw bad('columns', 'a non-empty array of distinct column names', o.columns);
  }
  if (o.format !== undefined && o.format !== 'csv' && o.format !== 'ndjson') throw bad('format', '"csv" or "ndjson"', o.format);
  const transform = o.transform ?? 'auto';
  if (transform !== 'auto' && !TRAIN_TRANSFORMS.includes(transform)) throw bad('transform', `"auto" or one of ${TRAIN_TRANSFORMS.join(', ')}`, transform);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw bad('onProgress', 'a function', o.onProgress);
  if (o.dataset !== undefined && (typeof o.dataset !== 'string' || o.dataset.includes(','))) throw bad('dataset', 'a string', o.dataset);
  return {
    columns: o.columns,
    format: o.format,
    hidden: int(o, 'hidden', 1, 1024),
    layers: int(o, 'layers', 1, 8) ?? 1,
    transform,
    epochs: int(o, 'epochs', 1, 100000),
    window: int(o, 'window', 2, 100000),
    batch: int(o, 'batch', 1, 4096),
    lr: real(o, 'lr', 0, 1, 3e-3, true),
    weightDecay: real(o, 'weightDecay', 0, 1, 1e-4),
    validationFraction: real(o, 'validationFraction', 0, 0.9, 0.2, true),
    ensemble: int(o, 'ensemble', 1, 16) ?? 4,
    seed: int(o, 'seed', 0, 0xffffffff) ?? 1,
    threads: int(o, 'threads', 1, 64) ?? Math.max(1, Math.min(4, availableParallelism())),
    timeBudget: real(o, 'timeBudget', 0, 1e6, 60, true),
    dataset: o.dataset,
    onProgress: o.onProgress,
  };
}
