import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The package's root folder, found by walking up from this file to gru-stream's package.json.
 * The same code runs from src/ (under vitest) and from dist/src/ (built), so fixed relative
 * paths would be wrong in one of the two; bundled assets and worker files are located from here.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === 'gru-stream') return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('gru-stream: cannot find the package root (package.json named gru-stream)');
    dir = parent;
  }
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
}

/** Absolute path of a file shipped in the package, e.g. assetPath('assets/models/sunspot_gru.safetensors'). */
export function packagePath(relative: string): string {
  return join(packageRoot(), relative);
}
