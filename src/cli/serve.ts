import { usageError } from './args.js';
import type { CliCommand } from './command.js';

// Placeholder: this command is being built (see the open issues); it refuses loudly meanwhile.
export const serveCommand: CliCommand = {
  name: 'serve',
  summary: '(serve: not available yet)',
  help: 'gru-stream serve: not available yet',
  async run() {
    throw usageError('gru-stream serve is not available yet');
  },
};
