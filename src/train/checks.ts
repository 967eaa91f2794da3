import { ErrorCodes, InputError } from '../errors.js';
import type { TrainingData } from './data.js';
import type { Split } from './encode.js';

/** Fewest validation rows per series: fewer cannot rank candidates or stop early. */
export const MIN_VALIDATION_ROWS = 4;
/** Fewest fit rows per series: a few windows of a few steps after differencing. */
export const MIN_FIT_ROWS = 16;

/**
 * Where validation starts in every series (the last `fraction` of its rows, at least
 * MIN_VALIDATION_ROWS), after checking that every series is long enough and no column is constant.
 */
export function splitAndCheck(data: TrainingData, fraction: number): Split {
  const C = data.columns.length;
  const split = data.series.map((s) => {
    const val = Math.max(MIN_VALIDATION_ROWS, Math.round(s.rows * fraction));
    if (s.rows - val < MIN_FIT_ROWS) {
      const needed = MIN_FIT_ROWS + MIN_VALIDATION_ROWS;
      const line = s.lines[s.rows - 1];
      throw new InputError(ErrorCodes.ERR_TOO_FEW_ROWS, `series "${s.id}" has ${s.rows} rows${line ? ` (last at line ${line})` : ''}; training needs at least ${Math.max(needed, Math.ceil(MIN_FIT_ROWS / (1 - fraction)))} (${MIN_FIT_ROWS} to fit, the last ${Math.round(fraction * 100)} % to validate)`, {
        series: s.id,
        rows: s.rows,
        ...(line ? { line } : {}),
      });
    }
    return s.rows - val;
  });
  for (let c = 0; c < C; c++) {
    const first = data.series[0].values[c];
    if (data.series.every((s) => s.values.every((v, i) => i % C !== c || v === first))) {
      const s = data.series[0];
      throw new InputError(ErrorCodes.ERR_CONSTANT_SERIES, `column "${data.columns[c]}" is ${first} on every row${s.lines[0] ? ` (lines ${s.lines[0]}-${s.lines[s.rows - 1]})` : ''}: there is nothing to learn`, {
        series: s.id,
        column: data.columns[c],
        ...(s.lines[0] ? { line: s.lines[0] } : {}),
      });
    }
  }
  return split;
}

/** The line of the first non-positive value, for a log transform the user asked for explicitly. */
export function nonPositiveError(data: TrainingData): InputError | null {
  const C = data.columns.length;
  for (const s of data.series) {
    const i = s.values.findIndex((v) => !(v > 0));
    if (i < 0) continue;
    const row = Math.floor(i / C);
    const line = s.lines[row];
    return new InputError(ErrorCodes.ERR_NON_FINITE, `${line ? `line ${line}: ` : ''}series "${s.id}" row ${row + 1}: ${data.columns[i % C]} is ${s.values[i]}, not > 0, which log_return+zscore needs`, {
      series: s.id,
      row: row + 1,
      ...(line ? { line } : {}),
    });
  }
  return null;
}
