// Runs each example in examples/ as a user would, `node examples/NAME.mjs`, against the built
// package (its 'gru-stream' import resolves to dist/ through package.json's self-reference).
// Builds nothing itself: `npm test` runs the build first (pretest).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
// The examples' own seeded data (the same draws they make), so the numbers they print can be checked
// against the float64 reference GRU, which shares no code with src/.
import { draws, torchGruTensors } from '../examples/lib/weights.mjs';
import { repoRoot } from './helpers/fixtures.js';
import { referenceForward } from './model/reference-gru.js';
import type { RandomModel } from './model/random-model.js';

const run = promisify(execFile);

async function example(name: string): Promise<string[]> {
  const { stdout, stderr } = await run(process.execPath, [join('examples', `${name}.mjs`)], { cwd: repoRoot });
  expect(stderr).toBe('');
  return stdout.trimEnd().split('\n');
}

const NUM = String.raw`-?\d+\.\d{4}`;

/** The numbers in a printed line. */
const numbers = (line: string): number[] => (line.match(/-?\d+\.\d+/g) ?? []).map(Number);

/** Each printed value equals the reference to its printed precision (plus float32 rounding). */
function expectPrinted(printed: number[], reference: number[], decimals: number): void {
  expect(printed).toHaveLength(reference.length);
  printed.forEach((p, i) => expect(Math.abs(p - reference[i]), `value ${i}: printed ${p}, reference ${reference[i]}`).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-5));
}

type Tensors = RandomModel['tensors'];
const model = (variant: 'pytorch' | 'seed', tensors: Tensors, inputSize: number, hiddenSize: number): RandomModel => ({
  sizes: { inputSize, hiddenSize, numLayers: 1, outputSize: 0 },
  variant,
  tensors,
  metadata: {},
});

describe('examples', () => {
  beforeAll(() => {
    if (!existsSync(join(repoRoot, 'dist', 'src', 'index.js'))) {
      throw new Error('dist/src/index.js is missing: run `npm run build` (npm test does it for you)');
    }
  });

  it('seed-cell.mjs: four (2,) steps with carried state, then (4, 2)', async () => {
    const lines = await example('seed-cell');
    expect(lines).toHaveLength(6);
    for (const line of lines.slice(0, 4)) expect(line).toMatch(/^\(2,\) -?\d\.\d{6} -?\d\.\d{6}$/);
    expect(lines[4]).toBe('(4, 2)');
    // The same draws as the example: W_z, b_z, W_r, b_r, W_h, b_h (biases zero), then x [4][3].
    const { randn } = draws(42);
    const tensors: Tensors = {};
    for (const gate of ['z', 'r', 'h']) {
      tensors[`W_${gate}`] = { shape: [2, 5], data: Float32Array.from({ length: 10 }, randn) };
      tensors[`b_${gate}`] = { shape: [2], data: new Float32Array(2) };
    }
    const x = Array.from({ length: 4 }, () => Array.from(Float32Array.from({ length: 3 }, randn)));
    const ref = referenceForward(model('seed', tensors, 3, 2), x.map((xt) => [xt]), null).output;
    lines.slice(0, 4).forEach((line, t) => expectPrinted(numbers(line.slice(5)), ref[t][0], 6));
    // The example checks itself: carrying hN as h0 reproduces one whole-sequence call.
    expect(lines[5]).toBe('stepwise equals one whole-sequence call: true');
  });

  it('grucell-step.mjs: one [2] output per step, seq_len 2', async () => {
    const lines = await example('grucell-step');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(new RegExp(String.raw`^tensor\(\[${NUM}, ${NUM}\]\)  shape \[2\]$`));
    // GRUCell steps with the state carried: the reference's outputs at t = 0 and 1.
    const { uniform, randn } = draws(7);
    const tensors = torchGruTensors(uniform, 3, 2) as Tensors;
    const x = Array.from({ length: 2 }, () => Array.from({ length: 3 }, randn));
    const ref = referenceForward(model('pytorch', tensors, 3, 2), x.map((xt) => [xt]), null).output;
    lines.forEach((line, t) => expectPrinted(numbers(line.replace(/shape.*$/, '')), ref[t][0], 4));
  });

  it('nn-gru.mjs: output [4][5][2], printed then its shape', async () => {
    const lines = await example('nn-gru');
    expect(lines).toHaveLength(5);
    const pair = String.raw`\[${NUM}, ${NUM}\]`;
    lines.slice(0, 4).forEach((line, t) => expect(line).toMatch(new RegExp(`^out\\[${t}\\] = ${pair}( ${pair}){4}$`)));
    expect(lines[4]).toBe('shape [4, 5, 2]');
    const { uniform, randn } = draws(2024);
    const tensors = torchGruTensors(uniform, 3, 2) as Tensors;
    const x = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => Array.from({ length: 3 }, randn)));
    const ref = referenceForward(model('pytorch', tensors, 3, 2), x, null).output;
    lines.slice(0, 4).forEach((line, t) => expectPrinted(numbers(line.replace(/^out\[\d\] = /, '')), ref[t].flat(), 4));
  });

  it.each(['seed-cell', 'grucell-step', 'nn-gru'])('%s.mjs prints the same numbers on every run (seeded)', async (name) => {
    expect(await example(name)).toEqual(await example(name));
  });
});
