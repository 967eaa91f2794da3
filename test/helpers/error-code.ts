import { expect } from 'vitest';
import type { GruStreamError } from '../../src/errors.js';

/** Run `fn`, assert it throws an instance of `kind`, and return the error's code (tests pin codes, not wording). */
export function codeOf(kind: abstract new (...args: never[]) => GruStreamError, fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(kind);
    return (err as GruStreamError).code;
  }
  throw new Error(`expected a ${kind.name}, but the call succeeded`);
}
