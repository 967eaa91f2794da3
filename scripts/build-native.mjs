// Builds the AVX2/FMA kernel addon (binding.gyp -> build/Release/gru_stream_native.node).
// Runs as the package's `install` script, so it must never fail `npm ci`: on any failure it prints
// one line saying why and that the portable kernel will be used, and exits 0.
// GRU_STREAM_SKIP_NATIVE=1 skips the build. The full build log goes to build/native-build.log.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'gru_stream_native.node');
const log = join(root, 'build', 'native-build.log');

function giveUp(reason) {
  console.log(`gru-stream: native kernel not built: ${reason}; using the portable kernel`);
  process.exit(0);
}

/** npm sets npm_config_node_gyp during lifecycle scripts; run by hand, use the node-gyp bundled with npm. */
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const npm = join(dir, 'npm');
    if (!dir || !existsSync(npm)) continue;
    const npmRoot = dirname(dirname(realpathSync(npm))); // .../npm/bin/npm-cli.js -> .../npm
    candidates.push(join(npmRoot, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  return candidates.find((c) => existsSync(c)) ?? null;
}

/**
 * Without network node-gyp cannot download headers, so point it at the headers installed with this
 * node (e.g. /usr/include/node) unless npm already passes a nodedir.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function main() {
  if (process.env.GRU_STREAM_SKIP_NATIVE === '1') giveUp('GRU_STREAM_SKIP_NATIVE=1');
  if (process.arch !== 'x64') giveUp(`the kernel needs x86-64 with AVX2/FMA, this is ${process.arch}`);
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) giveUp('node-gyp not found (neither npm_config_node_gyp nor npm\'s bundled copy)');
  const run = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodedirArgs()], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  mkdirSync(dirname(log), { recursive: true });
  writeFileSync(log, `${run.stdout ?? ''}\n${run.stderr ?? ''}`);
  if (run.error) giveUp(`node-gyp could not run (${run.error.message})`);
  if (run.status !== 0) {
    const lines = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.split('\n').map((l) => l.trim());
    const first = lines.find((l) => /error/i.test(l) && !/^gyp (info|ERR! (stack|System|command|cwd|node|not ok))/.test(l));
    giveUp(`node-gyp failed${first ? ` (${first.slice(0, 200)})` : ''}; see ${log}`);
  }
  if (!existsSync(addon)) giveUp(`node-gyp finished but ${addon} is missing`);
  // A binary that builds but will not load (wrong headers, missing symbols) is no better than none.
  try {
    const loaded = createRequire(import.meta.url)(addon);
    if (!loaded.cpuSupported) {
      console.log('gru-stream: native kernel built, but this CPU lacks AVX2/FMA; using the portable kernel');
      return;
    }
  } catch (err) {
    giveUp(`the built addon does not load (${err.message.split('\n')[0]})`);
  }
  console.log('gru-stream: native kernel built (build/Release/gru_stream_native.node)');
}

try {
  main();
} catch (err) {
  giveUp(`unexpected error (${err instanceof Error ? err.message : String(err)})`);
}
