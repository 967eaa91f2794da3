import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { ErrorCodes, GruStreamError, InputError, ModelError, OptionError, StateError, WorkerError, isGruStreamError } from '../src/errors.js';
import { repoRoot } from './helpers/fixtures.js';

/** Every exported error class, constructed the way its signature asks (a code for multi-code classes). */
const CLASSES: Array<[new (...args: never[]) => GruStreamError, (code: string) => GruStreamError]> = [
  [ModelError, (code) => new ModelError(code as never, 'm')],
  [InputError, (code) => new InputError(code as never, 'm')],
  [api.ServeError, (code) => new api.ServeError(code as never, 'm')],
  [StateError, (code) => new StateError(code as never, 'm')],
  [api.CheckpointError, (code) => new api.CheckpointError(code as never, 'm')],
  [WorkerError, (code) => new WorkerError(code as never, 'm')],
];
const SINGLE = [OptionError, api.UsageError, api.KernelError, api.BenchError, api.OutputError] as const;

describe('error codes and classes', () => {
  it('every code names itself and is listed in the README error table', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const [key, value] of Object.entries(ErrorCodes)) {
      expect(value).toBe(key);
      expect(readme, `README lists ${key}`).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
    }
  });

  it('each code constructs with exactly one class, and that class keeps the code, details and toJSON shape', () => {
    const owners = new Map<string, string>();
    for (const code of Object.values(ErrorCodes)) {
      for (const [cls, make] of CLASSES) {
        let err: GruStreamError | undefined;
        try {
          err = make(code);
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError);
          continue;
        }
        expect(owners.get(code), `${code} also constructs as ${cls.name}`).toBeUndefined();
        owners.set(code, cls.name);
        expect(err).toBeInstanceOf(cls);
        expect(isGruStreamError(err)).toBe(true);
        expect(err.code).toBe(code);
      }
    }
    for (const cls of SINGLE) {
      const err = new cls('m', { series: 's' });
      expect(owners.get(err.code), `${err.code} also constructs as ${owners.get(err.code)}`).toBeUndefined();
      owners.set(err.code, cls.name);
      expect(err.name).toBe(cls.name);
      expect(err.toJSON()).toEqual({ series: 's', code: err.code, message: 'm' });
    }
    expect([...owners.keys()].sort()).toEqual(Object.values(ErrorCodes).sort());
  });

  it('refuses a code given to the wrong class, and an unknown code', () => {
    expect(() => new ModelError(ErrorCodes.ERR_PARSE as never, 'm')).toThrow(/ERR_PARSE belongs to InputError, not ModelError/);
    expect(() => new InputError('ERR_NOPE' as never, 'm')).toThrow(TypeError);
    // The base class is abstract: no error is "just" a GruStreamError.
    const Base = GruStreamError as unknown as new (code: string, message: string) => GruStreamError;
    expect(() => new Base(ErrorCodes.ERR_OPTION, 'm')).toThrow(TypeError);
  });
});
