import { type LoadModelOptions, loadModel } from '../model/load-model.js';
import type { GruModel } from '../model/model.js';
import { usageError } from './args.js';

/** The flags every command that takes --model shares (parseArgs config). */
export const MODEL_FLAGS = {
  model: { type: 'string' },
  meta: { type: 'string', multiple: true },
} as const;

export const MODEL_FLAGS_HELP = `  --meta KEY=VALUE   model metadata the file lacks (an ONNX export without metadata_props):
                     the safetensors __metadata__ keys, e.g. --meta columns=value
                     --meta transform=zscore --meta norm_mean=49.3 --meta norm_std=42.5; repeatable`;

/** `--meta k=v` flags as loadModel's metadata option (undefined when none were given). */
export function metadataFlags(raw: unknown): LoadModelOptions['metadata'] {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const metadata: Record<string, string> = Object.create(null);
  for (const flag of raw as string[]) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw usageError(`--meta must be KEY=VALUE (got "${flag}")`);
    const key = flag.slice(0, eq).trim();
    if (Object.hasOwn(metadata, key)) throw usageError(`--meta ${key} is given twice`);
    metadata[key] = flag.slice(eq + 1);
  }
  return metadata;
}

/** Load --model (safetensors or ONNX) with the --meta flags. */
export function loadModelArg(path: string, meta: unknown): Promise<GruModel> {
  const metadata = metadataFlags(meta);
  return loadModel(path, metadata === undefined ? {} : { metadata });
}
