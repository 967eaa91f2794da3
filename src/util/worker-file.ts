import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, WorkerError } from '../errors.js';
import { packageRoot } from './package-root.js';

/**
 * The file a worker thread runs. Workers always run compiled JavaScript from dist/workers/: Node 20
 * cannot load TypeScript in a worker, and running workers through a TypeScript loader (tsx,
 * vite-node) would make the threads the tests measure differ from the ones users run (another
 * module loader, seconds of start-up per worker, a runtime dependency on the loader).
 *
 * So when this code itself runs from source (under vitest, src/*.ts), dist/ may be older than the
 * tree that is running, and a worker would silently step with old code beside new main-thread
 * code. That is refused here, with the command that fixes it; the tests' global set-up
 * (test/helpers/build-workers.ts) runs that build first whenever dist/ is stale, and `npm test`
 * builds anyway (pretest). An installed package runs from dist/ and never takes this check.
 */
export function workerFile(name: (typeof WORKERS)[number], root = packageRoot(), fromSource = runningFromSource()): string {
  const file = join(root, 'dist', 'workers', `${name}.js`);
  if (fromSource) {
    const stale = staleBuild(root);
    if (stale) {
      throw new WorkerError(ErrorCodes.ERR_STALE_BUILD, `dist/ is older than the source that is running (${stale}); worker threads would run the old code. Run \`npm run build\` (the test set-up does this before a run).`, { file, stale });
    }
  }
  return file;
}

const WORKERS = ['gru-worker', 'train-worker'] as const;

/** True when this module was loaded as TypeScript source rather than from dist/. */
export function runningFromSource(): boolean {
  return import.meta.url.endsWith('.ts');
}

/**
 * Why dist/ is stale, or undefined when it is not: a missing worker build, or the first source file
 * (src/, workers/) modified after the oldest built worker file.
 */
export function staleBuild(root = packageRoot()): string | undefined {
  const built = WORKERS.map((n) => join(root, 'dist', 'workers', `${n}.js`));
  const missing = built.find((f) => !existsSync(f));
  if (missing) return `${missing} does not exist`;
  const builtAt = Math.min(...built.map((f) => statSync(f).mtimeMs));
  for (const dir of ['src', 'workers']) {
    const newer = newerThan(join(root, dir), builtAt);
    if (newer) return `${newer} was changed after the build`;
  }
  return undefined;
}

function newerThan(dir: string, time: number): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = newerThan(path, time);
      if (found) return found;
    } else if (entry.name.endsWith('.ts') && statSync(path).mtimeMs > time) {
      return path;
    }
  }
  return undefined;
}
