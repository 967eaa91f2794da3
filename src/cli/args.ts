import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type GruStreamError, UsageError, isGruStreamError } from '../errors.js';

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

/*
 * Flags are only mapped onto library options here: a flag's text is turned into the option's type
 * (a whole number, a number), and an absent flag stays undefined so the library applies its own
 * default. Ranges are the library's; `flagErrors` renames its option errors after the flags.
 */

/** `--name`'s whole number, or undefined when the flag is absent. */
export function intFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw usageError(`--${name} must be a whole number (got "${raw}")`);
  return Number(raw);
}

/** `--name`'s number, or undefined when the flag is absent. */
export function numberFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || Number.isNaN(value)) throw usageError(`--${name} must be a number (got "${raw}")`);
  return value;
}

/**
 * Runs `fn` (a library call taking options mapped from flags); an ERR_OPTION it throws about one of
 * `flags` (option path -> flag name) becomes a usage error naming the flag, so the CLI exits 2.
 */
export async function flagErrors<T>(flags: Readonly<Record<string, string>>, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const option = isGruStreamError(err) && err.code === 'ERR_OPTION' ? err.details.option : undefined;
    if (typeof option !== 'string' || !Object.hasOwn(flags, option)) throw err;
    throw new UsageError(`--${flags[option]}: ${(err as Error).message}`, { ...(err as GruStreamError).details, flag: flags[option] });
  }
}

/**
 * `--interval 0.9` or `--interval 0.8,0.95`: the level, or the levels, as numbers (text that is not
 * a number becomes NaN, which the library refuses with ERR_OPTION on `interval`); undefined when
 * the flag is absent.
 */
export function levelsFlag(raw: string | undefined): number | number[] | undefined {
  if (raw === undefined) return undefined;
  const levels = raw.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part)));
  return levels.length === 1 ? levels[0] : levels;
}
