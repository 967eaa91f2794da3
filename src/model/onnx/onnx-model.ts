import { type ModelConfig, readModelConfig } from '../model-config.js';
import type { Tensor } from '../safetensors.js';
import type { TorchGru, TorchLayer } from '../torch-gru.js';
import { readOnnxGraph, type OnnxGruLayer } from './onnx-graph.js';
import { decodeOnnx, onnxFormatError } from './onnx-proto.js';

/**
 * An ONNX file as torch.onnx.export writes it, turned into the same checked PyTorch-form GRU the
 * safetensors loader builds. Metadata comes from the file's metadata_props (the safetensors
 * `__metadata__` keys), completed by loadModel's `metadata` option.
 */

/** ONNX stacks gate blocks z, r, h; ours (PyTorch's) are r, z, n. Blocks are H rows of `cols`, starting at `at`. */
function reorderGates(src: Float32Array, at: number, H: number, cols: number): Float32Array {
  const out = new Float32Array(3 * H * cols);
  const block = H * cols;
  out.set(src.subarray(at + block, at + 2 * block), 0); // r
  out.set(src.subarray(at, at + block), block); // z
  out.set(src.subarray(at + 2 * block, at + 3 * block), 2 * block); // h -> n
  return out;
}

/**
 * linear_before_reset = 1 is PyTorch's GRU exactly (Rb_h inside r * (...)). With 0, ONNX's
 * h~ = tanh(W_h x + Wb_h + R_h (r * h) + Rb_h) is the reset-before-product form, whose update rule
 * H = (1 - z) h~ + z H is still PyTorch's: the same weights run with the kernel's resetAfter=false,
 * which folds Rb_h into the input bias (pack-weights.ts). No sign flip is needed, unlike the
 * textbook seed files whose z keeps the new candidate.
 */
function toTorchLayer(l: OnnxGruLayer): TorchLayer {
  const H = l.hiddenSize;
  const bias = l.b ?? new Float32Array(6 * H);
  return {
    weightIh: reorderGates(l.w, 0, H, l.inSize),
    weightHh: reorderGates(l.r, 0, H, H),
    biasIh: reorderGates(bias, 0, H, 1),
    biasHh: reorderGates(bias, 3 * H, H, 1),
  };
}

/**
 * The parameters under the names a safetensors file of the same model would use (model.stateDict(),
 * training). linear_before_reset=0 is written as the seed variant: one [H][in + H] matrix and one
 * bias per gate (Rb folds into Wb: both sit outside r there), with z negated because the seed's z
 * keeps the new candidate (1 - σ(a) = σ(-a)).
 */
function stateTensors(config: ModelConfig, gru: TorchGru): Map<string, Tensor> {
  const { hiddenSize: H, numLayers: L } = config;
  const out = new Map<string, Tensor>();
  gru.layers.forEach((layer, l) => {
    const inSize = l === 0 ? config.inputSize : H;
    if (gru.shape.resetAfter) {
      out.set(`gru.weight_ih_l${l}`, { shape: [3 * H, inSize], data: layer.weightIh });
      out.set(`gru.weight_hh_l${l}`, { shape: [3 * H, H], data: layer.weightHh });
      out.set(`gru.bias_ih_l${l}`, { shape: [3 * H], data: layer.biasIh });
      out.set(`gru.bias_hh_l${l}`, { shape: [3 * H], data: layer.biasHh });
      return;
    }
    const prefix = L === 1 ? '' : `l${l}.`;
    (['r', 'z', 'h'] as const).forEach((gate, g) => {
      const sign = gate === 'z' ? -1 : 1;
      const w = new Float32Array(H * (inSize + H));
      const b = new Float32Array(H);
      for (let j = 0; j < H; j++) {
        const row = g * H + j;
        for (let k = 0; k < inSize; k++) w[j * (inSize + H) + k] = sign * layer.weightIh[row * inSize + k];
        for (let k = 0; k < H; k++) w[j * (inSize + H) + inSize + k] = sign * layer.weightHh[row * H + k];
        b[j] = sign * (layer.biasIh[row] + layer.biasHh[row]);
      }
      out.set(`${prefix}W_${gate}`, { shape: [H, inSize + H], data: w });
      out.set(`${prefix}b_${gate}`, { shape: [H], data: b });
    });
  });
  if (gru.head) {
    out.set('head.weight', { shape: [config.outputSize, H], data: gru.head.weight });
    out.set('head.bias', { shape: [config.outputSize], data: gru.head.bias });
  }
  return out;
}

export function modelFromOnnx(bytes: Uint8Array, completeMetadata: (own: Record<string, string>) => Record<string, string> = (own) => own): { config: ModelConfig; gru: TorchGru; metadata: Record<string, string>; tensors: Map<string, Tensor> } {
  const file = decodeOnnx(bytes);
  const own: Record<string, string> = Object.create(null);
  for (const { key, value } of file.metadata_props) {
    if (Object.hasOwn(own, key)) throw onnxFormatError(`metadata_props has "${key}" twice`, { key });
    own[key] = value;
  }
  const metadata = completeMetadata(own);
  const stack = readOnnxGraph(file.graph!);
  const lbr = stack.layers[0].linearBeforeReset;
  const mixed = stack.layers.find((l) => l.linearBeforeReset !== lbr);
  if (mixed) throw onnxFormatError(`GRU "${mixed.node}" has linear_before_reset ${Number(mixed.linearBeforeReset)} unlike the first layer; one model has one form`, { node: mixed.node });
  const config = readModelConfig(metadata, {
    inputSize: stack.layers[0].inSize,
    hiddenSize: stack.layers[0].hiddenSize,
    numLayers: stack.layers.length,
    outputSize: stack.head?.outputs ?? 0,
    variant: lbr ? 'pytorch' : 'seed',
  });
  const shape = { inputSize: config.inputSize, hiddenSize: config.hiddenSize, numLayers: config.numLayers, outputSize: config.outputSize, resetAfter: lbr };
  const head = stack.head ? { weight: stack.head.weight, bias: stack.head.bias } : null;
  const gru: TorchGru = { shape, layers: stack.layers.map(toTorchLayer), head };
  return { config, gru, metadata, tensors: stateTensors(config, gru) };
}
