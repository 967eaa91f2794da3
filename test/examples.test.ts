// Runs each example in examples/ as a user would, `node examples/NAME.mjs`, against the built
// package (its 'gru-stream' import resolves to dist/ through package.json's self-reference).
// Builds nothing itself: `npm test` runs the build first (pretest).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/fixtures.js';

const run = promisify(execFile);

async function example(name: string): Promise<string[]> {
  const { stdout, stderr } = await run(process.execPath, [join('examples', `${name}.mjs`)], { cwd: repoRoot });
  expect(stderr).toBe('');
  return stdout.trimEnd().split('\n');
}

const NUM = String.raw`-?\d+\.\d{4}`;

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
    // The example checks itself: carrying hN as h0 reproduces one whole-sequence call.
    expect(lines[5]).toBe('stepwise equals one whole-sequence call: true');
  });

  it('grucell-step.mjs: one [2] output per step, seq_len 2', async () => {
    const lines = await example('grucell-step');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(new RegExp(String.raw`^tensor\(\[${NUM}, ${NUM}\]\)  shape \[2\]$`));
  });

  it('nn-gru.mjs: output [4][5][2], printed then its shape', async () => {
    const lines = await example('nn-gru');
    expect(lines).toHaveLength(5);
    const pair = String.raw`\[${NUM}, ${NUM}\]`;
    lines.slice(0, 4).forEach((line, t) => expect(line).toMatch(new RegExp(`^out\\[${t}\\] = ${pair}( ${pair}){4}$`)));
    expect(lines[4]).toBe('shape [4, 5, 2]');
  });

  it.each(['seed-cell', 'grucell-step', 'nn-gru'])('%s.mjs prints the same numbers on every run (seeded)', async (name) => {
    expect(await example(name)).toEqual(await example(name));
  });
});
