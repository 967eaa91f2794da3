import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type GruStreamError, UsageError } from '../errors.js';

export function usageError(message: string): GruStreamError {
  return new UsageError(message);
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** node:util parseArgs with its errors turned into coded usage errors; `--help` is always known. */
export function parseCommandArgs(command: string, argv: string[], options: Options, allowPositionals = false): ParsedArgs {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true }) as ParsedArgs;
  } catch (err) {
    throw usageError(`gru-stream ${command}: ${(err as Error).message} (see gru-stream ${command} --help)`);
  }
}

/** Parse an integer option, with the option's name in the error. */
export function intOption(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
    throw usageError(`--${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

/** Parse a positive real option, with the option's name in the error. */
export function numberOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw usageError(`--${name} must be a positive number (got "${raw}")`);
  return value;
}
