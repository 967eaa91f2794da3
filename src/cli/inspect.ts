import { loadModel } from '../model/load-model.js';
import { parseCommandArgs, usageError } from './args.js';
import type { CliCommand } from './command.js';

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'print a model file\'s config and metadata as JSON',
  help: `Usage: gru-stream inspect MODEL

Print the model's validated config (sizes, variant, columns, transform, normaliser) and the raw
__metadata__ of the safetensors file as one JSON object. Exits 1 with a coded error if the file
is not a valid gru-stream model.`,
  async run(argv, io) {
    const { positionals } = parseCommandArgs('inspect', argv, {}, true);
    if (positionals.length !== 1) throw usageError('gru-stream inspect: expected exactly one MODEL path (see gru-stream inspect --help)');
    const model = await loadModel(positionals[0]);
    io.stdout.write(`${JSON.stringify({ config: model.config, metadata: model.metadata }, null, 2)}\n`);
    return 0;
  },
};
