import { usageError } from './args.js';
import type { CliCommand } from './command.js';

// Placeholder: this command is being built (see the open issues); it refuses loudly meanwhile.
export const predictCommand: CliCommand = {
  name: 'predict',
  summary: '(predict: not available yet)',
  help: 'gru-stream predict: not available yet',
  async run() {
    throw usageError('gru-stream predict is not available yet');
  },
};
