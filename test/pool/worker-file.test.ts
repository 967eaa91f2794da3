// Workers run dist/; running from source with an older dist/ is refused, not silently mixed.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerError } from '../../src/errors.js';
import { runningFromSource, staleBuild, workerFile } from '../../src/util/worker-file.js';
import { codeOf } from '../helpers/error-code.js';
import { repoRoot } from '../helpers/fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'gru-worker-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A package tree: src/a.ts written at `sourceAt`, the two built workers at `builtAt` (seconds). */
function tree(sourceAt: number, builtAt: number | null): void {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  mkdirSync(join(root, 'src', 'deep'), { recursive: true });
  const source = join(root, 'src', 'deep', 'a.ts');
  writeFileSync(source, 'export {};\n');
  utimesSync(source, sourceAt, sourceAt);
  if (builtAt === null) return;
  mkdirSync(join(root, 'dist', 'workers'), { recursive: true });
  for (const name of ['gru-worker', 'train-worker']) {
    const built = join(root, 'dist', 'workers', `${name}.js`);
    writeFileSync(built, '');
    utimesSync(built, builtAt, builtAt);
  }
}

describe('worker file', () => {
  it('is the dist/ build, refused with ERR_STALE_BUILD when a source file is newer, or when it is missing', () => {
    tree(1_000, 2_000);
    expect(staleBuild(root)).toBeUndefined();
    expect(workerFile('gru-worker', root, true)).toBe(join(root, 'dist', 'workers', 'gru-worker.js'));

    tree(3_000, 2_000);
    expect(staleBuild(root)).toContain(join('src', 'deep', 'a.ts'));
    expect(codeOf(WorkerError, () => workerFile('gru-worker', root, true))).toBe('ERR_STALE_BUILD');
    // Running from dist/ (an installed package) there is no source to compare with: no check.
    expect(workerFile('train-worker', root, false)).toBe(join(root, 'dist', 'workers', 'train-worker.js'));

    tree(1_000, null);
    expect(staleBuild(root)).toMatch(/does not exist/);
  });

  it('these tests run from source, against a dist/ the global set-up made current', () => {
    expect(runningFromSource()).toBe(true);
    expect(staleBuild(repoRoot)).toBeUndefined();
  });
});
