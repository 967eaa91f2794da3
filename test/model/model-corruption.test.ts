// Targeted corruptions of a valid model file, one per kind of damage, each pinned to its error code.
// The random counterpart is model-fuzz.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCodes, GruStreamError, ModelError } from '../../src/errors.js';
import { loadModel, modelFromBytes } from '../../src/model/load-model.js';
import { type Tensor, writeSafetensors } from '../../src/model/safetensors.js';
import { randomModel } from './random-model.js';
import { addTensor, editHeader, joinFile, setFloat, splitFile, withHeaderLength } from './safetensors-bytes.js';
import { codeOf as sharedCodeOf } from '../helpers/error-code.js';

const { ERR_MODEL_FORMAT: FORMAT, ERR_MODEL_SHAPE: SHAPE, ERR_MODEL_METADATA: METADATA, ERR_MODEL_VALUES: VALUES } = ErrorCodes;

const codeOf = (fn: () => unknown): string => sharedCodeOf(ModelError, fn);
const load = (bytes: Uint8Array) => () => modelFromBytes(bytes, { kernel: 'js' });

const torch = randomModel('pytorch', { inputSize: 2, hiddenSize: 3, numLayers: 2, outputSize: 1 }, 1);
const TORCH = writeSafetensors(torch.tensors, torch.metadata);
const seed = randomModel('seed', { inputSize: 3, hiddenSize: 2, numLayers: 2, outputSize: 0 }, 2);
const SEED = writeSafetensors(seed.tensors, seed.metadata);
const zeros = (shape: number[]): Tensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

it('the unedited files load (the baseline every case below departs from)', () => {
  expect(modelFromBytes(TORCH).config.hiddenSize).toBe(3);
  expect(modelFromBytes(SEED).config.variant).toBe('seed');
  expect(modelFromBytes(editHeader(TORCH, (h) => void delete h.__metadata__)).config.numLayers).toBe(2);
});

describe('container damage is ERR_MODEL_FORMAT', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['an empty file', new Uint8Array(0)],
    ['7 bytes', new Uint8Array(7)],
    ['header length 2^64-1', withHeaderLength(TORCH, 2n ** 64n - 1n)],
    ['header length 2^63', withHeaderLength(TORCH, 2n ** 63n)],
    ['header length 2^53+1', withHeaderLength(TORCH, 2n ** 53n + 1n)],
    ['header length one past the end', withHeaderLength(TORCH, BigInt(TORCH.length - 7))],
    ['header length 0', withHeaderLength(TORCH, 0n)],
    ['a file cut inside the header', TORCH.slice(0, 40)],
    ['a file cut inside the data', TORCH.slice(0, TORCH.length - 3)],
    ['a non-UTF-8 header', joinFile(Uint8Array.of(0x7b, 0xc3, 0x28, 0x7d), new Uint8Array(0))],
    ['a lone surrogate byte sequence', joinFile(Uint8Array.of(0x7b, 0xed, 0xa0, 0x80, 0x7d), new Uint8Array(0))],
    ['invalid JSON', joinFile('{"a": ', new Uint8Array(0))],
    ['a JSON array', joinFile('[1, 2, 3]', new Uint8Array(0))],
    ['a JSON number', joinFile('42', new Uint8Array(0))],
    ['a JSON string', joinFile('"gru"', new Uint8Array(0))],
    ['JSON null', joinFile('null', new Uint8Array(0))],
  ])('%s', (_name, bytes) => {
    expect(codeOf(load(bytes))).toBe(FORMAT);
  });

  it('a huge claimed header length fails before anything is decoded or allocated', () => {
    const decode = vi.spyOn(TextDecoder.prototype, 'decode');
    const parse = vi.spyOn(JSON, 'parse');
    const tiny = withHeaderLength(new Uint8Array(16), 2n ** 64n - 1n);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 1000; i++) expect(codeOf(load(tiny))).toBe(FORMAT);
    expect(decode).not.toHaveBeenCalled();
    expect(parse).not.toHaveBeenCalled();
    // 1000 loads of a 16-byte file: any allocation sized by the claim would show as gigabytes.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a header longer than the 16 MiB limit is refused even when the bytes are really there', () => {
    const decode = vi.spyOn(TextDecoder.prototype, 'decode');
    const big = withHeaderLength(new Uint8Array(16 * 1024 * 1024 + 64), BigInt(16 * 1024 * 1024 + 1));
    expect(codeOf(load(big))).toBe(FORMAT);
    expect(decode).not.toHaveBeenCalled();
  });

  const first = 'gru.weight_ih_l0';
  it.each<[string, (h: Record<string, any>) => unknown]>([
    ['__metadata__ is an array', (h) => void (h.__metadata__ = ['a'])],
    ['__metadata__ is null', (h) => void (h.__metadata__ = null)],
    ['a metadata value is a number', (h) => void (h.__metadata__.hidden_size = 3)],
    ['a metadata value is an object', (h) => void (h.__metadata__.hidden_size = { v: '3' })],
    ['a tensor entry is a string', (h) => void (h[first] = 'F32')],
    ['dtype F16', (h) => void (h[first].dtype = 'F16')],
    ['dtype F64', (h) => void (h[first].dtype = 'F64')],
    ['dtype "X"', (h) => void (h[first].dtype = 'X')],
    ['dtype "toString" (an Object.prototype key)', (h) => void (h[first].dtype = 'toString')],
    ['dtype missing', (h) => void delete h[first].dtype],
    ['a negative dimension', (h) => void (h[first].shape = [-6, -2])],
    ['a fractional dimension', (h) => void (h[first].shape = [6.5, 2])],
    ['a string dimension', (h) => void (h[first].shape = ['9', 2])],
    ['rank 9', (h) => void (h[first].shape = [1, 1, 1, 1, 1, 1, 1, 9, 2])],
    ['a shape that needs more bytes than its offsets span', (h) => void (h[first].shape = [9, 3])],
    ['a dimension of 2^53 (overflow bait)', (h) => void (h[first].shape = [2 ** 53 - 1, 2 ** 53 - 1, 0])],
    ['data_offsets reversed', (h) => void h[first].data_offsets.reverse()],
    ['data_offsets past the end', (h) => void (h[first].data_offsets = [0, 1 << 30])],
    ['data_offsets negative', (h) => void (h[first].data_offsets = [-48, 0])],
    ['data_offsets fractional', (h) => void (h[first].data_offsets = [0.5, 48.5])],
    ['data_offsets with three numbers', (h) => void h[first].data_offsets.push(0)],
    ['data_offsets as strings', (h) => void (h[first].data_offsets = ['0', '48'])],
    ['two tensors overlapping', (h) => void (h['gru.weight_hh_l0'].data_offsets = h[first].data_offsets.map((o: number) => o + 4))],
    ['two tensors at the same offsets', (h) => void (h['gru.bias_ih_l0'].data_offsets = [...h['gru.bias_hh_l0'].data_offsets])],
    // JSON.parse makes "__proto__" an own key, so an entry hidden behind it must not be honoured.
    ['an entry whose fields sit under "__proto__"', (h) => {
      const entry = JSON.stringify(h[first]);
      return JSON.stringify(h).replace(`"${first}":${entry}`, `"${first}":{"__proto__":${entry}}`);
    }],
  ])('%s', (_name, edit) => {
    expect(codeOf(load(editHeader(TORCH, edit)))).toBe(FORMAT);
  });
});

describe('tensors that do not make the model are ERR_MODEL_SHAPE', () => {
  it.each<[string, Uint8Array, (h: Record<string, any>) => unknown]>([
    ['a transposed weight (same bytes, wrong shape)', TORCH, (h) => void h['gru.weight_ih_l0'].shape.reverse()],
    ['a bias with a matrix shape', TORCH, (h) => void (h['gru.bias_ih_l0'].shape = [3, 3])],
    ['a missing bias', TORCH, (h) => void delete h['gru.bias_hh_l1']],
    ['a missing head bias', TORCH, (h) => void delete h['head.bias']],
    ['a missing second layer (metadata says 2)', TORCH, (h) => void ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].forEach((n) => delete h[`gru.${n}_l1`])],
    ['a tensor called "__proto__"', TORCH, (h) => JSON.stringify(h).replace('"head.bias"', '"__proto__"')],
    ['no GRU tensors at all', TORCH, () => ({ __metadata__: {}, other: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } })],
    ['hidden_size disagreeing with the tensors', TORCH, (h) => void (h.__metadata__.hidden_size = '4')],
    ['input_size disagreeing with the tensors', TORCH, (h) => void (h.__metadata__.input_size = '3')],
    ['num_layers disagreeing with the tensors', TORCH, (h) => void (h.__metadata__.num_layers = '1')],
    ['output_size without a head', TORCH, (h) => void ['head.weight', 'head.bias'].forEach((n) => delete h[n])],
    ['metadata variant=pytorch on seed tensors', SEED, (h) => void (h.__metadata__.variant = 'pytorch')],
    ['a seed layer missing b_r', SEED, (h) => void delete h['l1.b_r']],
    ['a seed W_h with the wrong width', SEED, (h) => void (h['l0.W_h'].shape = [5, 2])],
  ])('%s', (_name, base, edit) => {
    expect(codeOf(load(editHeader(base, edit)))).toBe(SHAPE);
  });

  it.each([
    ['an extra tensor', 'gru.extra'],
    ['an extra third layer the metadata does not mention', 'gru.weight_ih_l2'],
    ['seed names mixed into a pytorch file', 'W_z'],
  ])('%s', (_name, tensor) => {
    expect(codeOf(load(addTensor(TORCH, tensor, [1], [0.5])))).toBe(SHAPE);
  });
});

describe('unusable metadata is ERR_MODEL_METADATA', () => {
  it.each<[string, Record<string, string>]>([
    ['hidden_size "abc"', { hidden_size: 'abc' }],
    ['hidden_size "-3"', { hidden_size: '-3' }],
    ['hidden_size "3.0"', { hidden_size: '3.0' }],
    ['hidden_size "0"', { hidden_size: '0' }],
    ['hidden_size "" (empty)', { hidden_size: '' }],
    ['num_layers beyond any real model', { num_layers: '99999999999999999999' }],
    ['variant "keras"', { variant: 'keras' }],
    ['variant "__proto__"', { variant: '__proto__' }],
    ['format "onnx"', { format: 'onnx' }],
    ['columns naming 3 columns for 2 inputs', { columns: 'a,b,c' }],
    ['columns with a duplicate', { columns: 'a,a' }],
    ['norm_std of zero', { norm_mean: '0,0', norm_std: '1,0' }],
    ['norm_mean with one value for two columns', { norm_mean: '0', norm_std: '1,1' }],
    ['transform zscore without norms', { transform: 'zscore' }],
    ['transform "log"', { transform: 'log' }],
    ['horizon "0"', { horizon: '0' }],
  ])('%s', (_name, meta) => {
    expect(codeOf(load(editHeader(TORCH, (h) => void Object.assign(h.__metadata__, meta))))).toBe(METADATA);
  });

  it('a size that cannot be inferred and is absent', () => {
    // Seed W_z is [H, I + H]; with width == H the input size is not recoverable from the tensors.
    const t = { W_z: zeros([2, 2]), W_r: zeros([2, 2]), W_h: zeros([2, 2]), b_z: zeros([2]), b_r: zeros([2]), b_h: zeros([2]) };
    expect(codeOf(load(writeSafetensors(t)))).toBe(METADATA);
  });

  it('"__proto__" keys in the metadata neither break loading nor pollute Object.prototype', () => {
    const bytes = editHeader(TORCH, (h) => JSON.stringify(h).replace('"__metadata__":{', '"__metadata__":{"__proto__":"x","constructor":"y",'));
    expect(modelFromBytes(bytes).config.hiddenSize).toBe(3);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    const nested = editHeader(TORCH, (h) => JSON.stringify(h).replace('"__metadata__":{', '"__metadata__":{"__proto__":{"polluted":"1"},'));
    expect(codeOf(load(nested))).toBe(FORMAT);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('non-finite numbers are ERR_MODEL_VALUES', () => {
  it.each([
    ['NaN in a recurrent weight', 'gru.weight_hh_l0', 4, NaN],
    ['+Infinity in an input weight', 'gru.weight_ih_l1', 0, Infinity],
    ['-Infinity in a bias', 'gru.bias_hh_l1', 8, -Infinity],
    ['NaN in the head', 'head.weight', 2, NaN],
  ])('%s', (_name, tensor, index, value) => {
    expect(codeOf(load(setFloat(TORCH, tensor as string, index as number, value as number)))).toBe(VALUES);
  });

  it('NaN in a seed weight', () => {
    expect(codeOf(load(setFloat(SEED, 'l1.W_z', 3, NaN)))).toBe(VALUES);
  });

  it.each(['NaN,0', 'Infinity,0', '0,-Infinity', '1e999,0'])('norm_mean "%s"', (v) => {
    expect(codeOf(load(editHeader(TORCH, (h) => void Object.assign(h.__metadata__, { norm_mean: v, norm_std: '1,1' }))))).toBe(VALUES);
  });
});

describe('loadModel() rejects rather than throws', () => {
  it('a missing path rejects with ERR_MODEL_IO', async () => {
    const pending = loadModel('/nonexistent/dir/model.safetensors');
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toMatchObject({ code: ErrorCodes.ERR_MODEL_IO });
    await expect(pending).rejects.toBeInstanceOf(ModelError);
  });

  it('a directory rejects with ERR_MODEL_IO', async () => {
    await expect(loadModel(new URL('.', import.meta.url))).rejects.toMatchObject({ code: ErrorCodes.ERR_MODEL_IO });
  });

  it('corrupt bytes reject with their code', async () => {
    const pending = loadModel(withHeaderLength(TORCH, 2n ** 64n - 1n));
    await expect(pending).rejects.toMatchObject({ code: FORMAT });
    await expect(loadModel(setFloat(TORCH, 'gru.bias_ih_l0', 0, NaN))).rejects.toMatchObject({ code: VALUES });
  });
});

describe('sizes inferred from tensor shapes', () => {
  // Regression: with no size metadata, zero-width tensors used to load as a GRU with
  // hidden_size 0 (or input_size 0) that silently produced empty outputs.
  it('refuses hidden_size 0 implied by [0, 0] tensors (ERR_MODEL_SHAPE)', () => {
    const file = writeSafetensors({ 'gru.weight_ih_l0': zeros([0, 3]), 'gru.weight_hh_l0': zeros([0, 0]), 'gru.bias_ih_l0': zeros([0]), 'gru.bias_hh_l0': zeros([0]) });
    expect(codeOf(load(file))).toBe(SHAPE);
  });

  it('refuses input_size 0 implied by a [3H, 0] weight_ih (ERR_MODEL_SHAPE)', () => {
    const file = writeSafetensors({ 'gru.weight_ih_l0': zeros([6, 0]), 'gru.weight_hh_l0': zeros([6, 2]), 'gru.bias_ih_l0': zeros([6]), 'gru.bias_hh_l0': zeros([6]) });
    expect(codeOf(load(file))).toBe(SHAPE);
  });
});

it('splitFile/joinFile round-trip a valid file byte for byte (the surgery above changes only what it says)', () => {
  const { header, data } = splitFile(TORCH);
  const text = new TextDecoder().decode(TORCH.subarray(8, TORCH.length - data.length));
  expect(joinFile(text, data)).toEqual(TORCH);
  expect(header.__metadata__).toEqual(torch.metadata);
});

describe('loadModel arguments', () => {
  it('rejects a non-path, non-bytes source with ERR_MODEL_IO instead of reading a file descriptor', async () => {
    await expect(loadModel(0 as never)).rejects.toMatchObject({ code: 'ERR_MODEL_IO' });
    await expect(loadModel(null as never)).rejects.toMatchObject({ code: 'ERR_MODEL_IO' });
  });

  it('a dtype named like an Object.prototype member is an unknown dtype', async () => {
    const bytes = new TextEncoder().encode('{"w":{"dtype":"toString","shape":[1],"data_offsets":[0,4]}}');
    const file = new Uint8Array(8 + bytes.length + 4);
    new DataView(file.buffer).setBigUint64(0, BigInt(bytes.length), true);
    file.set(bytes, 8);
    await expect(loadModel(file)).rejects.toMatchObject({ code: 'ERR_MODEL_FORMAT', details: { tensor: 'w' } });
  });
});
