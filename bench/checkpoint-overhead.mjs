#!/usr/bin/env node
// What checkpointing costs `gru-stream predict`: the same NDJSON file through the same command with
// and without --state-dir (default 1 s interval), as whole processes, alternated A B A B ... so a
// drifting machine affects both alike. Prints each pair's wall and CPU seconds (from /usr/bin/time)
// and the medians and median ratio. Usage: node bench/checkpoint-overhead.mjs [--runs 7] [--lines 600000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { seededRandom } from '../dist/src/util/seeded-random.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, lines: { type: 'string', default: '600000' }, series: { type: 'string', default: '1000' } } });
const runs = Number(values.runs);
const lines = Number(values.lines);
const series = Number(values.series);
const dir = mkdtempSync(join(tmpdir(), 'gru-ckpt-bench-'));
const input = join(dir, 'in.ndjson');
const rand = seededRandom(7);
const text = [];
for (let i = 0; i < lines; i++) text.push(`{"series":"s${Math.floor(rand() * series)}","value":${(50 + 40 * rand()).toFixed(3)}}`);
writeFileSync(input, `${text.join('\n')}\n`);

const cli = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const model = new URL('../assets/models/sunspot_gru.safetensors', import.meta.url).pathname;
function once(withState) {
  const state = join(dir, 'state');
  rmSync(state, { recursive: true, force: true });
  const args = ['-f', '%e %U %S', process.execPath, cli, 'predict', '--model', model, '--input', input, '--output', join(dir, 'out.ndjson'), ...(withState ? ['--state-dir', state] : [])];
  const r = spawnSync('/usr/bin/time', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`predict failed: ${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: user + sys };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
once(true);
once(false); // warm-up
const pairs = [];
for (let k = 0; k < runs; k++) {
  const a = once(true);
  const b = once(false);
  pairs.push({ a, b });
  console.log(`pair ${k + 1}: with --state-dir ${a.wall.toFixed(2)} s wall ${a.cpu.toFixed(2)} s cpu | without ${b.wall.toFixed(2)} s wall ${b.cpu.toFixed(2)} s cpu`);
}
rmSync(dir, { recursive: true, force: true });
const row = (k) => `${median(pairs.map((p) => p.a[k])).toFixed(2)} s | ${median(pairs.map((p) => p.b[k])).toFixed(2)} s | ${median(pairs.map((p) => p.a[k] / p.b[k])).toFixed(3)}`;
console.log(`\n${cpus()[0].model}, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)}; ${lines} lines, ${series} series, ${runs} pairs`);
console.log('| figure | with --state-dir (median) | without (median) | median ratio with/without |\n| --- | --- | --- | --- |');
console.log(`| wall | ${row('wall')} |`);
console.log(`| CPU (user+sys) | ${row('cpu')} |`);
