// Every command that takes a model reads ONNX too, with --meta supplying what the export lacks.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { exportOnnx } from '../model/onnx-writer.js';
import { randomModel } from '../model/random-model.js';

const dir = mkdtempSync(join(tmpdir(), 'gru-onnx-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const m = randomModel('pytorch', { inputSize: 2, hiddenSize: 6, numLayers: 2, outputSize: 2 }, 31);
const meta = { columns: 'a,b', transform: 'zscore', norm_mean: '10,20', norm_std: '2,4' };
const onnxPath = join(dir, 'bare.onnx');
const stPath = join(dir, 'twin.safetensors');
writeFileSync(onnxPath, exportOnnx(m, { head: 'gemm', h0: 'zeros' }));
writeFileSync(stPath, writeSafetensors(m.tensors, { ...m.metadata, ...meta }));
const flags = Object.entries(meta).flatMap(([k, v]) => ['--meta', `${k}=${v}`]);
const input = Array.from({ length: 30 }, (_, i) => JSON.stringify({ series: `s${i % 3}`, values: [10 + Math.sin(i), 20 + Math.cos(i)] })).join('\n');

describe('ONNX on the command line', () => {
  it('predict: an ONNX export without metadata plus --meta gives the safetensors twin\'s output byte for byte', async () => {
    const onnx = await runCli(['predict', '--model', onnxPath, ...flags], input);
    const twin = await runCli(['predict', '--model', stPath], input);
    expect(onnx.stderr).toBe('');
    expect(onnx.code).toBe(0);
    expect(onnx.stdout.trim().split('\n')).toHaveLength(30);
    expect(onnx.stdout).toBe(twin.stdout);
  });

  it('inspect shows the ONNX config with the --meta keys; bad --meta is a usage error', async () => {
    const r = await runCli(['inspect', onnxPath, ...flags]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).config).toMatchObject({ inputSize: 2, hiddenSize: 6, numLayers: 2, outputSize: 2, columns: ['a', 'b'], transform: 'zscore' });
    expect((await runCli(['inspect', onnxPath, '--meta', 'columns'])).code).toBe(2);
    const without = await runCli(['inspect', onnxPath]);
    expect(JSON.parse(without.stdout).config.columns).toEqual(['x0', 'x1']);
  });

  it('serve: the built CLI serves an ONNX model with its --meta columns (/healthz)', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'serve', '--model', onnxPath, ...flags, '--port', '0', '--input', '-'], { cwd: repoRoot, env: { ...process.env, GRU_STREAM_TOKEN: '' } });
    const exited = once(child, 'exit');
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /dashboard at (http:\/\/\S+\/)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const health = (await (await fetch(`${url}healthz`)).json()) as { model: { columns: string[]; numLayers: number } };
      expect(health.model).toMatchObject({ columns: ['a', 'b'], numLayers: 2 });
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
