import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ErrorCodes, InputError, OptionError } from '../errors.js';
import { flatWeightCount } from './flat-weights.js';

/**
 * A benchmark workload as `workloads.json` (schema gru-streaming-workloads/1) describes it, with its
 * data-file paths resolved against the json file's folder (the schema says they are relative to it).
 * Everything is validated here, once; the tick loop trusts these types.
 */
export interface WorkloadSpec {
  id: string;
  name: string;
  input: number;
  hidden: number;
  layers: number;
  series: number;
  ticks: number;
  warmupTicks: number;
  /** Absolute paths. `reference` is optional: synthetic sweep workloads have none (then nothing is checked). */
  files: { weights: string; inputs: string; reference: string | null; onnx: string | null };
}

/** The float32 arrays a workload's files hold, sizes checked against the spec. */
export interface WorkloadData {
  spec: WorkloadSpec;
  /** Flat PyTorch-order weights (see flat-weights.ts). */
  weights: Float32Array;
  /** [ticks][series][input]. */
  inputs: Float32Array;
  /** [ticks][series] forecasts to match within the tolerance, or null. */
  reference: Float32Array | null;
}

/** Reads a file named by --workloads; a file that cannot be read is ERR_INPUT_IO, not a bad option. */
function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError(ErrorCodes.ERR_INPUT_IO, `${what} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { option: '--workloads', path });
  }
}

function fail(file: string, message: string): OptionError {
  return new OptionError(`workloads file ${file}: ${message}`, { option: '--workloads', file });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(file: string, w: Record<string, unknown>, key: string, min = 1): number {
  const v = w[key];
  if (!Number.isSafeInteger(v) || (v as number) < min) throw fail(file, `workload ${String(w.id)}: "${key}" must be a whole number >= ${min} (got ${JSON.stringify(v)})`);
  return v as number;
}

function readSpec(file: string, dir: string, w: unknown, index: number): WorkloadSpec {
  if (!isRecord(w)) throw fail(file, `workloads[${index}] is not an object`);
  if (typeof w.id !== 'string' || w.id === '') throw fail(file, `workloads[${index}].id must be a non-empty string`);
  const files = w.files;
  if (!isRecord(files)) throw fail(file, `workload ${w.id}: "files" must be an object`);
  const path = (key: string, required: boolean): string | null => {
    const p = files[key];
    if (p === undefined && !required) return null;
    if (typeof p !== 'string' || p === '') throw fail(file, `workload ${w.id}: files.${key} must be a path string`);
    return resolve(dir, p);
  };
  const spec: WorkloadSpec = {
    id: w.id,
    name: typeof w.name === 'string' ? w.name : w.id,
    input: positiveInt(file, w, 'input'),
    hidden: positiveInt(file, w, 'hidden'),
    layers: positiveInt(file, w, 'layers'),
    series: positiveInt(file, w, 'series'),
    ticks: positiveInt(file, w, 'ticks'),
    warmupTicks: positiveInt(file, w, 'warmup_ticks', 0),
    files: { weights: path('weights', true)!, inputs: path('inputs', true)!, reference: path('reference', false), onnx: path('onnx', false) },
  };
  if (spec.warmupTicks >= spec.ticks) throw fail(file, `workload ${spec.id}: warmup_ticks (${spec.warmupTicks}) must be below ticks (${spec.ticks})`);
  return spec;
}

/** Parse and validate a workloads.json; data files are not read yet. */
export function loadWorkloadSpecs(file: string): WorkloadSpec[] {
  let json: unknown;
  const text = readInput(file, 'workloads file').toString('utf8');
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw fail(file, `is not JSON (${(err as Error).message})`);
  }
  if (!isRecord(json) || !Array.isArray(json.workloads)) throw fail(file, 'has no "workloads" array');
  if (json.dtype !== undefined && json.dtype !== 'float32') throw fail(file, `dtype ${JSON.stringify(json.dtype)} is not float32`);
  const specs = json.workloads.map((w, i) => readSpec(file, dirname(resolve(file)), w, i));
  const ids = new Set<string>();
  for (const s of specs) {
    if (ids.has(s.id)) throw fail(file, `workload id ${s.id} appears twice`);
    ids.add(s.id);
  }
  return specs;
}

function readFloats(spec: WorkloadSpec, path: string, what: string, expected: number): Float32Array {
  const bytes = readInput(path, `workload ${spec.id}: ${what} file`);
  if (bytes.byteLength !== expected * 4) {
    throw new OptionError(`workload ${spec.id}: ${what} file ${path} has ${bytes.byteLength} bytes, the spec implies ${expected * 4}`, { option: '--workloads', file: path });
  }
  // The files are little-endian float32; a typed-array view reads them as-is only on a little-endian host.
  if (endianness() !== 'LE') throw new OptionError('gru-stream bench reads little-endian float32 files and needs a little-endian host');
  // Copy: a Buffer may be an unaligned view into Node's pool, and Float32Array needs 4-byte alignment.
  const out = new Float32Array(expected);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function loadWorkloadData(spec: WorkloadSpec): WorkloadData {
  const weights = readFloats(spec, spec.files.weights, 'weights', flatWeightCount(spec));
  const inputs = readFloats(spec, spec.files.inputs, 'inputs', spec.ticks * spec.series * spec.input);
  const reference = spec.files.reference === null ? null : readFloats(spec, spec.files.reference, 'reference', spec.ticks * spec.series);
  return { spec, weights, inputs, reference };
}
