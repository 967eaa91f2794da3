// ONNX models in: the reference exports match their safetensors twins and golden vectors; graphs
// laid out like torch.onnx.export's (test/model/onnx-writer.ts) match the random safetensors models
// they were written from; everything else is refused with a code naming the node.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, ModelError } from '../../src/errors.js';
import { loadModel, modelFromBytes } from '../../src/model/load-model.js';
import type { ForwardResult } from '../../src/model/model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { fixturesDir, maxAbsDiff } from '../helpers/fixtures.js';
import { codeOf } from '../helpers/error-code.js';
import { type NodeObject, exportOnnx, floatTensor } from './onnx-writer.js';
import { type RandomModel, randomModel, randomSequence, randomState } from './random-model.js';

const KERNELS = ['js', 'native'] as const;

/** Every NAME.onnx in golden/ and models/ with its NAME.safetensors twin, found by listing. */
const twins = ['golden', 'models'].flatMap((dir) =>
  readdirSync(join(fixturesDir, dir))
    .filter((f) => f.endsWith('.onnx') && existsSync(join(fixturesDir, dir, f.replace(/\.onnx$/, '.safetensors'))))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, onnx: join(fixturesDir, dir, f), safetensors: join(fixturesDir, dir, f.replace(/\.onnx$/, '.safetensors')), golden: join(fixturesDir, dir, f.replace(/\.onnx$/, '.json')) })),
);

/** Largest difference between two forward() results, field by field. */
function forwardDiff(a: ForwardResult, b: ForwardResult): number {
  expect(a.forecast === undefined).toBe(b.forecast === undefined);
  return Math.max(maxAbsDiff(a.output, b.output), maxAbsDiff(a.hN, b.hN), a.forecast ? maxAbsDiff(a.forecast, b.forecast) : 0);
}

function safetensorsOf(m: RandomModel): Uint8Array {
  return writeSafetensors(m.tensors, m.metadata);
}

function sizesOf(m: RandomModel): Record<string, string> {
  const { format, input_size, hidden_size, num_layers, output_size, variant } = m.metadata;
  return Object.fromEntries(Object.entries({ format, input_size, hidden_size, num_layers, output_size, variant }).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

describe('ONNX reference exports', () => {
  it('finds the golden and trained ONNX exports', () => {
    expect(twins.some((t) => t.name.startsWith('golden/'))).toBe(true);
    expect(twins.some((t) => t.name.startsWith('models/'))).toBe(true);
  });

  it.each(twins.map((t) => [t.name, t] as const))('%s equals its safetensors twin (and its golden vectors)', async (_name, t) => {
    for (const kernel of KERNELS) {
      const onnx = await loadModel(t.onnx, { kernel: kernel === 'native' ? 'auto' : kernel });
      const st = await loadModel(t.safetensors, { kernel: kernel === 'native' ? 'auto' : kernel });
      expect(onnx.config).toEqual(st.config);
      const { inputSize: I, hiddenSize: H, numLayers: L } = st.config;
      const golden = existsSync(t.golden) ? JSON.parse(readFileSync(t.golden, 'utf8')) : null;
      const input = golden?.input ?? randomSequence(7, 12, 3, I);
      // A golden case's h0 may be null (zeros): forward() then starts both models from zeros too.
      const h0 = golden ? (golden.h0 ?? undefined) : randomState(8, L, input[0].length, H);
      const a = onnx.forward(input, h0);
      const b = st.forward(input, h0);
      expect(forwardDiff(a, b)).toBeLessThanOrEqual(1e-5);
      if (golden) {
        expect(maxAbsDiff(a.output, golden.output)).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(a.hN, golden.h_n)).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('the trained export carries its metadata; the golden one takes metadata from the options', async () => {
    const sunspot = twins.find((t) => t.name.startsWith('models/'))!;
    expect((await loadModel(sunspot.onnx)).metadata).toMatchObject({ transform: 'zscore', columns: 'value' });
    const golden = twins.find((t) => t.name.startsWith('golden/'))!;
    const bare = await loadModel(golden.onnx);
    expect(bare.config.columns).toEqual(Array.from({ length: bare.config.inputSize }, (_, i) => `x${i}`));
    const cols = Array.from({ length: bare.config.inputSize }, (_, i) => `c${i}`).join(',');
    const named = await loadModel(golden.onnx, { metadata: { columns: cols, transform: 'zscore', norm_mean: cols.replace(/c\d+/g, '1'), norm_std: cols.replace(/c\d+/g, '2') } });
    expect(named.config).toMatchObject({ columns: cols.split(','), transform: 'zscore' });
    expect(named.config.normStd.every((s) => s === 2)).toBe(true);
    // Metadata the file has must agree with the options.
    const conflict = await loadModel(sunspot.onnx, { metadata: { transform: 'none' } }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ModelError);
    expect((conflict as ModelError).code).toBe(ErrorCodes.ERR_MODEL_METADATA);
    expect((await loadModel(sunspot.onnx, { metadata: { transform: 'zscore' } })).config.transform).toBe('zscore');
  });
});

describe('ONNX graphs laid out like torch.onnx.export', () => {
  const shapes = [
    { sizes: { inputSize: 3, hiddenSize: 8, numLayers: 1, outputSize: 0 }, options: {} },
    { sizes: { inputSize: 2, hiddenSize: 16, numLayers: 3, outputSize: 2 }, options: { head: 'matmul', h0: 'input' } },
    { sizes: { inputSize: 4, hiddenSize: 5, numLayers: 2, outputSize: 3 }, options: { head: 'gemm', h0: 'zeros' } },
    { sizes: { inputSize: 1, hiddenSize: 12, numLayers: 2, outputSize: 1 }, options: { head: 'gemm-transB0', h0: 'zeros', batchFirst: true } },
    { sizes: { inputSize: 2, hiddenSize: 7, numLayers: 1, outputSize: 1 }, options: { head: 'matmul', batchFirst: true } },
    { sizes: { inputSize: 3, hiddenSize: 9, numLayers: 2, outputSize: 1 }, options: { head: 'gemm', h0: 'folded' } },
  ] as const;

  it.each(shapes.map((s, i) => [`L${s.sizes.numLayers} ${JSON.stringify(s.options)}`, s, i] as const))('%s: loads to the safetensors model it was written from', (_name, s, i) => {
    const m = randomModel('pytorch', s.sizes, 100 + i);
    const onnx = modelFromBytes(exportOnnx(m, { ...s.options, metadata: sizesOf(m) }), { kernel: 'js' });
    const st = modelFromBytes(safetensorsOf(m), { kernel: 'js' });
    expect(onnx.config).toEqual(st.config);
    const input = randomSequence(i, 9, 4, s.sizes.inputSize);
    const h0 = randomState(i + 50, s.sizes.numLayers, 4, s.sizes.hiddenSize);
    // Same weights, same kernel: bit-identical, not just close; and the same parameters for training.
    expect(onnx.forward(input, h0)).toEqual(st.forward(input, h0));
    expect(onnx.stateDict()).toEqual(st.stateDict());
    // Without metadata the sizes come from the graph alone.
    expect(modelFromBytes(exportOnnx(m, s.options)).config).toMatchObject({ inputSize: s.sizes.inputSize, hiddenSize: s.sizes.hiddenSize, numLayers: s.sizes.numLayers, outputSize: s.sizes.outputSize });
  });

  it('linear_before_reset 0 runs ONNX\'s reset-before equations (checked against a seed file of the same cell)', () => {
    // ONNX (lbr=0): z = σ(W_z x + R_z h + b), r likewise, h~ = tanh(W_h x + R_h (r*h) + Wb_h + Rb_h),
    // H = (1-z) h~ + z h. The seed variant keeps the new candidate with z, so its z is ONNX's 1 - z:
    // the same cell is written with W_z, R_z, b_z negated.
    const I = 3;
    const H = 6;
    const seed = randomModel('seed', { inputSize: I, hiddenSize: H, numLayers: 1, outputSize: 0 }, 77, 2);
    const t = (n: string): Float32Array => seed.tensors[n].data;
    const w = new Float32Array(3 * H * I);
    const r = new Float32Array(3 * H * H);
    const b = new Float32Array(6 * H);
    (['z', 'r', 'h'] as const).forEach((gate, g) => {
      const sign = gate === 'z' ? -1 : 1;
      for (let j = 0; j < H; j++) {
        for (let k = 0; k < I; k++) w[(g * H + j) * I + k] = sign * t(`W_${gate}`)[j * (I + H) + k];
        for (let k = 0; k < H; k++) r[(g * H + j) * H + k] = sign * t(`W_${gate}`)[j * (I + H) + I + k];
        b[g * H + j] = sign * t(`b_${gate}`)[j];
      }
    });
    const pt = randomModel('pytorch', { inputSize: I, hiddenSize: H, numLayers: 1, outputSize: 0 }, 1);
    const bytes = exportOnnx(pt, {
      edit: (g) => {
        g.initializer.splice(0, 3, floatTensor('onnx::GRU_0', [1, 3 * H, I], w), floatTensor('onnx::GRU_1', [1, 3 * H, H], r), floatTensor('onnx::GRU_2', [1, 6 * H], b));
        const gru = g.node.find((n) => n.op_type === 'GRU')!;
        gru.attribute = [{ name: 'hidden_size', type: 2, i: H }, { name: 'linear_before_reset', type: 2, i: 0 }];
      },
    });
    const onnx = modelFromBytes(bytes, { kernel: 'js' });
    expect(onnx.config.variant).toBe('seed');
    const input = randomSequence(3, 20, 2, I);
    const h0 = randomState(4, 1, 2, H);
    expect(forwardDiff(onnx.forward(input, h0), modelFromBytes(safetensorsOf(seed), { kernel: 'js' }).forward(input, h0))).toBeLessThanOrEqual(1e-5);
    // Its parameters come back as the seed file's (z negated back), so training sees the same cell.
    const dict = onnx.stateDict();
    for (const [name, t] of Object.entries(seed.tensors)) expect(maxAbsDiff(Array.from(dict[name].values), Array.from(t.data))).toBeLessThanOrEqual(1e-6);
  });
});

describe('ONNX refusals', () => {
  const m = randomModel('pytorch', { inputSize: 2, hiddenSize: 4, numLayers: 2, outputSize: 1 }, 9);
  type Edit = (g: { node: NodeObject[]; initializer: object[]; output: object[] }) => void;
  const load = (edit: Edit): string => codeOf(ModelError, () => modelFromBytes(exportOnnx(m, { edit: edit as never }), { kernel: 'js' }));
  const gru = (g: { node: NodeObject[] }, k = 0): NodeObject => g.node.filter((n) => n.op_type === 'GRU')[k];

  it('an unsupported op is ERR_MODEL_GRAPH naming its type and name', () => {
    let err: unknown;
    try {
      modelFromBytes(exportOnnx(m, {
        edit: (g) => {
          const add = g.node.find((n) => n.op_type === 'Add')!;
          g.node.splice(g.node.indexOf(add), 0, { op_type: 'Relu', name: '/head/Relu', input: ['/head/MatMul_output_0'], output: ['/head/Relu_output_0'] });
          add.input[1] = '/head/Relu_output_0';
        },
      }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe(ErrorCodes.ERR_MODEL_GRAPH);
    expect((err as ModelError).message).toMatch(/Relu "\/head\/Relu"/);
    expect((err as ModelError).details).toMatchObject({ node: '/head/Relu', op: 'Relu' });
  });

  it.each([
    ['a reverse GRU', (g: { node: NodeObject[] }) => void gru(g).attribute!.push({ name: 'direction', type: 3, s: Buffer.from('reverse') })],
    ['sequence_lens', (g: { node: NodeObject[] }) => void (gru(g).input[4] = 'h0')],
    ['layers out of order', (g: { node: NodeObject[] }) => void (gru(g, 1).input[0] = 'input')],
    ['a head over the first of two layers', (g: { node: NodeObject[] }) => void (g.node.find((n) => n.op_type === 'MatMul')!.input[0] = '/gru/Squeeze_0_output_0')],
    ['layer 1 started from layer 0\'s h0', (g: { node: NodeObject[] }) => void (gru(g, 1).input[5] = '/gru/Slice_0_output_0')],
    ['a Clip activation', (g: { node: NodeObject[] }) => void gru(g).attribute!.push({ name: 'clip', type: 1, f: 3 })],
    ['a squeeze of the wrong axis', (g: { node: NodeObject[] }) => void (g.node.find((n) => n.op_type === 'Squeeze')!.input[1] = g.node.find((n) => n.op_type === 'Slice')!.input[1])],
  ])('%s is ERR_MODEL_GRAPH', (_name, edit) => {
    expect(load(edit)).toBe(ErrorCodes.ERR_MODEL_GRAPH);
  });

  it('bad containers, shapes, values and metadata get their own codes', () => {
    expect(load((g) => void ((g.initializer[1] as { dims: number[] }).dims = [1, 12, 3]))).toBe(ErrorCodes.ERR_MODEL_FORMAT);
    expect(load((g) => void g.initializer.splice(1, 1, floatTensor('onnx::GRU_1', [1, 12, 3], new Float32Array(36))))).toBe(ErrorCodes.ERR_MODEL_SHAPE);
    expect(load((g) => void g.initializer.splice(0, 1, floatTensor('onnx::GRU_0', [1, 12, 2], new Float32Array(24).fill(NaN))))).toBe(ErrorCodes.ERR_MODEL_VALUES);
    expect(load((g) => void ((g.initializer[0] as { data_type: number }).data_type = 10))).toBe(ErrorCodes.ERR_MODEL_FORMAT);
    expect(load((g) => void ((g.initializer[0] as { data_location: number }).data_location = 1))).toBe(ErrorCodes.ERR_MODEL_FORMAT);
    expect(codeOf(ModelError, () => modelFromBytes(exportOnnx(m, { metadata: { transform: 'zscore' } })))).toBe(ErrorCodes.ERR_MODEL_METADATA);
    expect(codeOf(ModelError, () => modelFromBytes(Buffer.from([0x08, 0x07, 0x3a, 0xff, 0x01])))).toBe(ErrorCodes.ERR_MODEL_FORMAT);
  });
});
