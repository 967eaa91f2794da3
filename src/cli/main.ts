#!/usr/bin/env node
import { isGruStreamError } from '../errors.js';
import type { CliCommand, CliIo } from './command.js';

/** Subcommands load lazily so `gru-stream inspect` does not pay for the server's imports. */
const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  predict: async () => (await import('./predict.js')).predictCommand,
  train: async () => (await import('./train.js')).trainCommand,
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
  kafka: async () => (await import('./kafka.js')).kafkaCommand,
};

async function topLevelHelp(): Promise<string> {
  const lines = await Promise.all(Object.values(COMMANDS).map(async (load) => {
    const c = await load();
    return `  ${c.name.padEnd(9)}${c.summary}`;
  }));
  return `Usage: gru-stream [COMMAND] [OPTIONS]

Real-time time-series forecasting with PyTorch-exact GRU models.
With no COMMAND, runs \`serve\` on the bundled default model and data.

Commands:
${lines.join('\n')}

Run \`gru-stream COMMAND --help\` for a command's options.`;
}

/** Runs the CLI; resolves to the exit code (never calls process.exit itself, so tests can drive it). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === '--help' || first === '-h' || first === 'help') {
      io.stdout.write(`${await topLevelHelp()}\n`);
      return 0;
    }
    if (first === '--version' || first === '-v') {
      const { packageVersion } = await import('../util/package-root.js');
      io.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    const name = first === undefined || first.startsWith('-') ? 'serve' : first;
    const load = COMMANDS[name];
    if (!load) {
      io.stderr.write(`gru-stream: unknown command "${name}"\n\n${await topLevelHelp()}\n`);
      return 2;
    }
    const command = await load();
    const args = name === first ? rest : argv;
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(`${command.help}\n`);
      return 0;
    }
    return await command.run(args, io);
  } catch (err) {
    if (isGruStreamError(err)) {
      io.stderr.write(`gru-stream: ${err.code}: ${err.message}\n`);
      return err.code === 'ERR_USAGE' ? 2 : 1;
    }
    io.stderr.write(`gru-stream: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href;
if (isEntry) {
  const code = await main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
  process.exitCode = code;
}
