// The published package as a strict TypeScript consumer gets it: `npm pack`, the tarball installed
// into a fresh project (its dependencies from the npm cache, scripts off: only types are checked
// here), and `tsc` with strict, skipLibCheck false and NodeNext on a file using the public API.
// Every package the reachable .d.ts import must be a dependency that ships its own types: a
// dependency's @types that only a devDependency (or, by luck, another dependency) brings in
// would fail for some consumer with TS7016.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'gru-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const typesNodeVersion = JSON.parse(readFileSync(join(repoRoot, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version;
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

const CONSUMER = `import {
  type Forecast, type GruModel, type ServeHandle, type ServeOptions, type StateSnapshot, type SubscriberInfo,
  ErrorCodes, ModelError, createCsvParser, createPredictor, isGruStreamError, loadModel, serve,
} from 'gru-stream';

export async function main(path: string): Promise<void> {
  const model: GruModel = await loadModel(path, { kernel: 'js', metadata: { columns: 'value' } });
  const predictor = createPredictor(model, { workers: 0, horizon: 1 });
  predictor.on('data', (f: Forecast) => console.log(f.series, f.forecast));
  const snapshot: StateSnapshot = await predictor.exportState();
  const options: ServeOptions = { model, port: 0 };
  const handle: ServeHandle = await serve(options);
  const subs: SubscriberInfo[] = handle.subscribers();
  console.log(snapshot, subs.length, createCsvParser({ columns: ['value'] }).readableObjectMode);
  try {
    await loadModel('missing.onnx');
  } catch (err) {
    if (isGruStreamError(err) && err.code === ErrorCodes.ERR_MODEL_IO) console.log(err instanceof ModelError);
  }
  await handle.close();
}
`;

/** A package ships types when its package.json names them or an index.d.ts sits at its root. */
function shipsTypes(root: string): boolean {
  const p = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return Boolean(p.types ?? p.typings) || JSON.stringify(p.exports ?? {}).includes('"types"') || existsSync(join(root, 'index.d.ts'));
}

describe('the packed package', () => {
  it('compiles in a strict consumer (skipLibCheck false) from the tarball, and its .d.ts import only self-typed dependencies', async () => {
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: repoRoot });
    const tarball = join(dir, JSON.parse(stdout)[0].filename);
    const consumer = join(dir, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, types: ['node'] }, files: ['index.ts'] }));
    writeFileSync(join(consumer, 'index.ts'), CONSUMER);
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball, `@types/node@${typesNodeVersion}`], { cwd: consumer });

    const compiled = await run(process.execPath, [tsc, '-p', consumer, '--listFiles']).catch((err: { stdout: string }) => err);
    const out = compiled.stdout;
    expect(out.split('\n').filter((l) => /error TS/.test(l))).toEqual([]);
    expect('code' in compiled ? compiled.code : 0).toBe(0);

    const ours = out.split('\n').filter((f) => f.includes('/node_modules/gru-stream/') && f.endsWith('.d.ts'));
    expect(ours.some((f) => f.endsWith('/dist/src/index.d.ts'))).toBe(true);
    const imported = new Set<string>();
    for (const file of ours) {
      for (const [, spec] of readFileSync(file.trim(), 'utf8').matchAll(/from '([^'.][^']*)'/g)) {
        if (!spec.startsWith('node:')) imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
      }
    }
    for (const name of imported) {
      expect(Object.keys(pkg.dependencies), `${name} is imported by the public types`).toContain(name);
      expect(shipsTypes(join(consumer, 'node_modules', name)), `${name} ships no types of its own`).toBe(true);
    }
  }, 180_000);
});
