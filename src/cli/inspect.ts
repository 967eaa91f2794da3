import { parseCommandArgs, usageError } from './args.js';
import type { CliCommand } from './command.js';
import { MODEL_FLAGS, MODEL_FLAGS_HELP, loadModelArg } from './model-arg.js';

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'print a model file\'s config and metadata as JSON',
  help: `Usage: gru-stream inspect MODEL [--meta KEY=VALUE ...]

Print the model's validated config (sizes, variant, columns, transform, normaliser) and the raw
metadata (safetensors __metadata__ or ONNX metadata_props) as one JSON object. Exits 1 with a
coded error if the file is not a valid gru-stream model.

Options:
${MODEL_FLAGS_HELP}`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('inspect', argv, { meta: MODEL_FLAGS.meta }, true);
    if (positionals.length !== 1) throw usageError('gru-stream inspect: expected exactly one MODEL path (see gru-stream inspect --help)');
    const model = await loadModelArg(positionals[0], values.meta);
    io.stdout.write(`${JSON.stringify({ config: model.config, metadata: model.metadata }, null, 2)}\n`);
    return 0;
  },
};
