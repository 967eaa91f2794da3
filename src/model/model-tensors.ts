import { ErrorCodes, ModelError } from '../errors.js';
import { type InferredSizes, type ModelConfig, type Variant, readModelConfig } from './model-config.js';
import type { SafetensorsFile, Tensor } from './safetensors.js';
import { seedLayerToTorch } from './seed-to-torch.js';
import type { TorchGru, TorchLayer } from './torch-gru.js';

/**
 * Turns the tensors of a safetensors file into a checked PyTorch-form GRU.
 * Names are exactly PyTorch's state_dict names (`gru.weight_ih_l0`, ..., `head.weight`) or, for the
 * seed variant, `W_z, W_r, W_h, b_z, b_r, b_h` (prefixed `l{k}.` in multi-layer files).
 */

const SEED_NAME = /^(?:l(\d+)\.)?([Wb]_[zrh])$/;

function shapeError(message: string, tensor?: string): ModelError {
  return new ModelError(ErrorCodes.ERR_MODEL_SHAPE, message, tensor === undefined ? {} : { tensor });
}

function detectVariant(names: string[]): Variant {
  const torch = names.some((n) => n.startsWith('gru.'));
  const seed = names.some((n) => SEED_NAME.test(n));
  if (torch && seed) throw shapeError('the file mixes PyTorch (gru.*) and seed (W_z, ...) tensor names');
  if (!torch && !seed) throw shapeError('no GRU tensors found: expected PyTorch state_dict names gru.weight_ih_l0, ... or seed names W_z, ...');
  return torch ? 'pytorch' : 'seed';
}

function countLayers(tensors: Map<string, Tensor>, name: (l: number) => string): number {
  let l = 0;
  while (tensors.has(name(l))) l++;
  return l;
}

function inferSizes(file: SafetensorsFile, variant: Variant): InferredSizes {
  const t = file.tensors;
  const dim = (name: string, axis: number): number | undefined => t.get(name)?.shape[axis];
  if (variant === 'pytorch') {
    const hidden = dim('gru.weight_hh_l0', 1);
    return {
      variant,
      numLayers: countLayers(t, (l) => `gru.weight_ih_l${l}`) || undefined,
      hiddenSize: hidden,
      inputSize: dim('gru.weight_ih_l0', 1),
      outputSize: t.has('head.weight') ? dim('head.weight', 0) : 0,
    };
  }
  const prefix = t.has('W_z') ? '' : 'l0.';
  const hidden = dim(`${prefix}W_z`, 0);
  const width = dim(`${prefix}W_z`, 1);
  return {
    variant,
    numLayers: prefix === '' ? 1 : countLayers(t, (l) => `l${l}.W_z`) || undefined,
    hiddenSize: hidden,
    inputSize: hidden !== undefined && width !== undefined && width > hidden ? width - hidden : undefined,
    outputSize: t.has('head.weight') ? dim('head.weight', 0) : 0,
  };
}

/**
 * The tensor names and shapes a model of this config must contain, nothing more and nothing less,
 * in canonical order (training's flat parameter vector follows it too: src/train/param-layout.ts).
 */
export function expectedShapes(config: Pick<ModelConfig, 'inputSize' | 'hiddenSize' | 'numLayers' | 'outputSize' | 'variant'>, seedPrefixed: boolean): Map<string, number[]> {
  const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = config;
  const want = new Map<string, number[]>();
  for (let l = 0; l < L; l++) {
    const inSize = l === 0 ? I : H;
    if (config.variant === 'pytorch') {
      want.set(`gru.weight_ih_l${l}`, [3 * H, inSize]);
      want.set(`gru.weight_hh_l${l}`, [3 * H, H]);
      want.set(`gru.bias_ih_l${l}`, [3 * H]);
      want.set(`gru.bias_hh_l${l}`, [3 * H]);
    } else {
      const p = seedPrefixed ? `l${l}.` : '';
      for (const g of ['z', 'r', 'h']) want.set(`${p}W_${g}`, [H, inSize + H]);
      for (const g of ['z', 'r', 'h']) want.set(`${p}b_${g}`, [H]);
    }
  }
  if (O > 0) {
    want.set('head.weight', [O, H]);
    want.set('head.bias', [O]);
  }
  return want;
}

function checkTensors(file: SafetensorsFile, want: Map<string, number[]>): void {
  for (const [name, shape] of want) {
    const t = file.tensors.get(name);
    if (!t) throw shapeError(`tensor "${name}" is missing (expected shape [${shape}])`, name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw shapeError(`tensor "${name}" has shape [${t.shape}], expected [${shape}]`, name);
    }
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ModelError(ErrorCodes.ERR_MODEL_VALUES, `tensor "${name}" has a non-finite value (${t.data[bad]}) at element ${bad}`, { tensor: name, index: bad });
  }
  for (const name of file.tensors.keys()) {
    if (!want.has(name)) throw shapeError(`unexpected tensor "${name}" for this model's metadata`, name);
  }
}

/**
 * The checked config, the PyTorch-form GRU the kernel packs, and the file's tensors in canonical
 * order (PyTorch's state_dict order per layer, then the head) whatever order the file listed them in.
 */
export function modelFromTensors(file: SafetensorsFile): { config: ModelConfig; gru: TorchGru; tensors: Map<string, Tensor> } {
  const variant = detectVariant([...file.tensors.keys()]);
  const config = readModelConfig(file.metadata, inferSizes(file, variant));
  const seedPrefixed = variant === 'seed' && !file.tensors.has('W_z');
  if (seedPrefixed && config.numLayers === 1 && !file.tensors.has('l0.W_z')) throw shapeError('seed tensors W_z... are missing');
  const want = expectedShapes(config, seedPrefixed);
  checkTensors(file, want);
  const get = (name: string): Float32Array => file.tensors.get(name)!.data;
  const layers: TorchLayer[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    if (variant === 'pytorch') {
      layers.push({ weightIh: get(`gru.weight_ih_l${l}`), weightHh: get(`gru.weight_hh_l${l}`), biasIh: get(`gru.bias_ih_l${l}`), biasHh: get(`gru.bias_hh_l${l}`) });
    } else {
      const p = seedPrefixed ? `l${l}.` : '';
      const inSize = l === 0 ? config.inputSize : config.hiddenSize;
      layers.push(seedLayerToTorch({ wz: get(`${p}W_z`), wr: get(`${p}W_r`), wh: get(`${p}W_h`), bz: get(`${p}b_z`), br: get(`${p}b_r`), bh: get(`${p}b_h`) }, inSize, config.hiddenSize));
    }
  }
  const head = config.outputSize > 0 ? { weight: get('head.weight'), bias: get('head.bias') } : null;
  const shape = { inputSize: config.inputSize, hiddenSize: config.hiddenSize, numLayers: config.numLayers, outputSize: config.outputSize, resetAfter: variant === 'pytorch' };
  const tensors = new Map([...want.keys()].map((name) => [name, file.tensors.get(name)!]));
  return { config, gru: { shape, layers, head }, tensors };
}
