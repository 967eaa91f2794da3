import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/helpers/fixtures.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The reference fixtures live in the repository (test/fixtures; its README says where each came from),
 * so a clone anywhere passes. GRU_STREAM_FIXTURES points elsewhere, e.g. at the acceptance set of unseen cases.
 */
export const fixturesDir = resolve(process.env.GRU_STREAM_FIXTURES ?? join(repoRoot, 'test', 'fixtures'));

if (!existsSync(fixturesDir)) {
  throw new Error(`fixtures not found at ${fixturesDir} (GRU_STREAM_FIXTURES=${process.env.GRU_STREAM_FIXTURES ?? ''})`);
}

export interface GoldenCase {
  name: string;
  modelPath: string;
  config: { input_size: number; hidden_size: number; num_layers: number; variant: string; output_size?: number; module: string };
  input: number[][][];
  h0: number[][][] | null;
  output: number[][][];
  h_n: number[][][];
  forecast?: number[][][];
}

/** Every golden case in fixtures/golden (a NAME.json beside a NAME.safetensors), found by listing, not by name. */
export function goldenCases(): GoldenCase[] {
  const dir = join(fixturesDir, 'golden');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && existsSync(join(dir, f.replace(/\.json$/, '.safetensors'))))
    .sort()
    .map((f) => {
      const name = f.replace(/\.json$/, '');
      const data = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      return { name, modelPath: join(dir, `${name}.safetensors`), ...data };
    });
}

export interface TrainedModelCase {
  name: string;
  modelPath: string;
  csvPath: string;
  expected: {
    config: { columns: string[]; transform: string; csv: string; norm_std: number[] };
    forecast_target_start: number;
    forecasts: number[][];
    forecasts_normalised: number[][];
  };
}

/** Every trained model in fixtures/models with its expected forecasts and its CSV. */
export function trainedModels(): TrainedModelCase[] {
  const dir = join(fixturesDir, 'models');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.expected.json'))
    .sort()
    .map((f) => {
      const name = f.replace(/\.expected\.json$/, '');
      const expected = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      return { name, modelPath: join(dir, `${name}.safetensors`), csvPath: join(fixturesDir, expected.config.csv), expected };
    });
}

/** Largest absolute difference between two equally shaped nested number arrays. */
export function maxAbsDiff(a: unknown, b: unknown, path = ''): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) throw new Error(`length mismatch at ${path || 'root'}: ${a.length} vs ${b.length}`);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, maxAbsDiff(a[i], b[i], `${path}[${i}]`));
    return m;
  }
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  throw new Error(`type mismatch at ${path || 'root'}`);
}

export interface GradCase {
  name: string;
  modelPath: string;
  config: { I: number; H: number; L: number; O: number; T: number; B: number; burn_in: number; seed: number };
  input: number[][][];
  target: number[][][];
  h0: number[][][] | null;
  loss: number;
  grad: Record<string, { shape: number[]; values: number[] }>;
  grad_total_norm: number;
  adam: {
    steps: number;
    lr: number;
    betas: [number, number];
    eps: number;
    weight_decay: number;
    clip_grad_norm: number;
    losses_before_each_step: number[];
    params_after: Record<string, { shape: number[]; values: number[] }>;
  };
}

/** Every PyTorch training reference in fixtures/grad (NAME.json beside NAME.safetensors), found by listing. */
export function gradCases(): GradCase[] {
  const dir = join(fixturesDir, 'grad');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && existsSync(join(dir, f.replace(/\.json$/, '.safetensors'))))
    .sort()
    .map((f) => {
      const name = f.replace(/\.json$/, '');
      return { name, modelPath: join(dir, `${name}.safetensors`), ...JSON.parse(readFileSync(join(dir, f), 'utf8')) };
    });
}
