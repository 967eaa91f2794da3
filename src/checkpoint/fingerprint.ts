import { createHash } from 'node:crypto';
import type { GruModel } from '../model/model.js';

/**
 * What a model's checkpoints are tied to: SHA-256 of its configuration (shape, columns, transform
 * and its normalisation constants) and of its packed weights. Two loads of the same file agree; a
 * retrained model (same shape, other weights) does not, because its hidden states mean other things.
 */
export function modelFingerprint(model: GruModel): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(model.config));
  const w = model.weights.data;
  hash.update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  return `sha256:${hash.digest('hex')}`;
}
