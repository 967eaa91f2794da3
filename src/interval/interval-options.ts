import { OptionError } from '../errors.js';

/** More levels than this is a configuration mistake, and each one costs state per series and step. */
export const MAX_INTERVAL_LEVELS = 8;
/**
 * Horizon paths keep the last `horizon` paths per series to score each step when its target
 * arrives: 3·horizon²·columns numbers per series (calibration-layout.ts). This cap keeps that
 * below 400 KB per column.
 */
export const MAX_INTERVAL_HORIZON = 128;

/**
 * `options.interval`: one level (0.9) or several ([0.8, 0.95]), each strictly between 0 and 1,
 * no repeats. Returns the levels in the order given, or null when intervals are off.
 */
export function resolveIntervalLevels(raw: unknown, horizon: number): number[] | null {
  if (raw === undefined || raw === null) return null;
  const levels = Array.isArray(raw) ? raw : [raw];
  const shape = `options.interval must be a level in (0, 1) or an array of 1 to ${MAX_INTERVAL_LEVELS} distinct levels`;
  if (levels.length === 0 || levels.length > MAX_INTERVAL_LEVELS) throw new OptionError(`${shape} (got ${levels.length} levels)`, { option: 'interval' });
  levels.forEach((level, i) => {
    if (typeof level !== 'number' || !(level > 0 && level < 1)) {
      throw new OptionError(`${shape}; ${Array.isArray(raw) ? `options.interval[${i}]` : 'it'} is ${typeof level === 'number' ? String(level) : JSON.stringify(level)}`, { option: 'interval', index: Array.isArray(raw) ? i : undefined });
    }
  });
  if (new Set(levels).size !== levels.length) throw new OptionError(`${shape}; ${JSON.stringify(raw)} repeats a level`, { option: 'interval' });
  if (horizon > MAX_INTERVAL_HORIZON) {
    throw new OptionError(`options.interval with options.horizon ${horizon}: intervals support horizons up to ${MAX_INTERVAL_HORIZON}`, { option: 'interval' });
  }
  return levels as number[];
}
