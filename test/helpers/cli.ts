import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process with in-memory stdin/stdout/stderr. */
export async function runCli(argv: string[], stdinText = ''): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdin: Readable.from([stdinText]), stdout, stderr, env: process.env });
  return { code, stdout: out, stderr: err };
}
