import { usageError } from './args.js';
import type { CliCommand } from './command.js';

// Placeholder: this command is being built (see the open issues); it refuses loudly meanwhile.
export const benchCommand: CliCommand = {
  name: 'bench',
  summary: '(bench: not available yet)',
  help: 'gru-stream bench: not available yet',
  async run() {
    throw usageError('gru-stream bench is not available yet');
  },
};
