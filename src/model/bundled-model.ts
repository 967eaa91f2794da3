import { packagePath } from '../util/package-root.js';

/**
 * The model used when none is named (`serve()`, `gru-stream predict`, `gru-stream serve`): a real
 * PyTorch forecaster trained on R's monthly sunspot numbers (assets/README.md). Package-relative;
 * bundledModelPath() gives the absolute path of the installed copy.
 */
export const BUNDLED_MODEL = 'assets/models/sunspot_gru.safetensors';

export function bundledModelPath(): string {
  return packagePath(BUNDLED_MODEL);
}
