import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { staleBuild } from '../../src/util/worker-file.js';
import { repoRoot } from './fixtures.js';

/**
 * vitest global set-up. Tests import src/ directly, but worker threads run dist/ (see
 * src/util/worker-file.ts for why). When dist/ is older than the source, build it before any test
 * starts, so `npx vitest run` after an edit tests one tree, not old workers under new code.
 * `npm test` has built already (pretest), so this usually costs one directory scan.
 */
export default function setup(): void {
  const stale = staleBuild(repoRoot);
  if (!stale) return;
  process.stderr.write(`gru-stream tests: building dist/ first (${stale})\n`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: repoRoot, stdio: 'inherit' });
}
