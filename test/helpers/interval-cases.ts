import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs module shared with bench/intervals.mjs (pure functions, no types)
import { validationResiduals } from '../../bench/lib/interval-metrics.mjs';
import { loadModel } from '../../src/model/load-model.js';
import { parseSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import { runCli } from './cli.js';
import { runPredictor } from './run-predictor.js';

const scratch: string[] = [];

/** A scratch directory for the model and CSV files one test writes (removeScratchDirs deletes them). */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gru-stream-intervals-'));
  scratch.push(dir);
  return dir;
}

export function removeScratchDirs(): void {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The rows of a CSV with the given columns, values mapped by `map` (e.g. a rescale after training). */
export function csvRows(csvPath: string, columns: readonly string[], map: (v: number) => number = (v) => v): number[][] {
  const [header, ...lines] = readFileSync(csvPath, 'utf8').trim().split(/\r?\n/);
  const at = columns.map((c) => header.split(',').indexOf(c));
  if (at.some((i) => i < 0)) throw new Error(`${csvPath} lacks one of ${columns.join(', ')}`);
  return lines.map((line) => {
    const cells = line.split(',');
    return at.map((i) => map(Number(cells[i])));
  });
}

export function writeCsv(path: string, columns: readonly string[], rows: number[][]): string {
  writeFileSync(path, `${columns.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  return path;
}

/**
 * A copy of a model file carrying `validation_residuals` as `gru-stream train` writes them: its
 * own one-step residuals on `rows[from, to)`.
 */
export async function writeWithValidationResiduals(modelPath: string, rows: number[][], [from, to]: [number, number], out: string): Promise<string> {
  const model = await loadModel(modelPath);
  const { outputs } = await runPredictor(model, rows.slice(0, to).map((values) => ({ series: 'v', values })));
  const file = parseSafetensors(readFileSync(modelPath));
  const metadata = { ...file.metadata, validation_residuals: JSON.stringify(validationResiduals(outputs, model.config, [from, to])) };
  writeFileSync(out, writeSafetensors(Object.fromEntries(file.tensors), metadata));
  return out;
}

/** `gru-stream predict --interval LEVELS --with-actual` on a CSV: its NDJSON records. */
export async function predictWithIntervals(modelPath: string, csvPath: string, levels: string, extra: string[] = []): Promise<Array<Record<string, unknown>>> {
  const { code, stdout, stderr } = await runCli(['predict', '--model', modelPath, '--input', csvPath, '--interval', levels, '--with-actual', ...extra]);
  if (code !== 0) throw new Error(`predict exited ${code}: ${stderr}`);
  return stdout.trim().split('\n').map((line) => JSON.parse(line));
}
