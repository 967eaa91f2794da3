import type { Readable, Writable } from 'node:stream';

/** Where a command reads and writes: process streams in real use, in-memory ones in tests. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** One subcommand of `gru-stream`, in a file of its own under src/cli/. */
export interface CliCommand {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** Full `--help` text. */
  help: string;
  /** Resolves to the process exit code. Usage errors throw GruStreamError(ERR_USAGE). */
  run(argv: string[], io: CliIo): Promise<number>;
}
