import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * onnxruntime-node lives in bench/peers/ with its own package.json, installed here on demand, so the
 * root `npm ci` never depends on it. ONNXRUNTIME_NODE_INSTALL=skip stops its install script from
 * fetching the GPU add-on (no internet here); the CPU runtime ships inside the package.
 * Returns { ok: true, version } or { ok: false, reason }: a missing peer is reported, never fatal.
 */
export function ensureOrt(peersDir) {
  const pkg = join(peersDir, 'node_modules', 'onnxruntime-node', 'package.json');
  if (!existsSync(pkg)) {
    const lock = existsSync(join(peersDir, 'package-lock.json'));
    const r = spawnSync('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund'], {
      cwd: peersDir,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (r.status !== 0 || !existsSync(pkg)) {
      return { ok: false, reason: `npm ${lock ? 'ci' : 'install'} in bench/peers failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}` };
    }
  }
  // Installed is not the same as loadable (a missing or wrong-arch binding only shows on require).
  const probe = spawnSync(process.execPath, ['-e', "require('onnxruntime-node')"], { cwd: peersDir, encoding: 'utf8' });
  if (probe.status !== 0) return { ok: false, reason: `onnxruntime-node does not load: ${probe.stderr.trim().split('\n').slice(-2).join(' | ')}` };
  return { ok: true, version: JSON.parse(readFileSync(pkg, 'utf8')).version };
}
