// Random damage to every model file in the shared fixtures. The loader's whole contract under
// attack: each load either gives a working model or throws a ModelError with an ERR_MODEL_* code.
// Never another exception type, a crash, a hang or a model that computes non-finite numbers.
// Targeted, one-code-per-damage tests are in model-corruption.test.ts.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, GruStreamError, ModelError } from '../../src/errors.js';
import { modelFromBytes } from '../../src/model/load-model.js';
import type { GruModel } from '../../src/model/model.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { seededRandom } from './random-model.js';
import { MUTATORS } from './mutators.js';
import { ONNX_MUTATORS } from './onnx-mutators.js';
import { joinFile, splitFile, withHeaderLength } from './safetensors-bytes.js';

/** Fixed so CI failures reproduce; FUZZ_SEED explores further. */
const SEED = Number(process.env.FUZZ_SEED ?? 20250611);
const MODEL_CODES: ReadonlySet<string> = new Set([ErrorCodes.ERR_MODEL_FORMAT, ErrorCodes.ERR_MODEL_SHAPE, ErrorCodes.ERR_MODEL_METADATA, ErrorCodes.ERR_MODEL_VALUES]);
/** An ONNX file can also hold a graph gru-stream cannot run. */
const ONNX_CODES: ReadonlySet<string> = new Set([...MODEL_CODES, ErrorCodes.ERR_MODEL_GRAPH]);
const FLT_MAX = 3.4028234663852886e38;

// Found by listing, so GRU_STREAM_FIXTURES (the acceptance set) is fuzzed the same way.
const BASES = ['golden', 'models'].filter((dir) => existsSync(join(fixturesDir, dir))).flatMap((dir) =>
  readdirSync(join(fixturesDir, dir))
    .filter((f) => f.endsWith('.safetensors') || f.endsWith('.onnx'))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, onnx: f.endsWith('.onnx'), bytes: new Uint8Array(readFileSync(join(fixturesDir, dir, f))) })),
);
const SAFETENSORS = BASES.filter((b) => !b.onnx);
const ONNX = BASES.filter((b) => b.onnx);

const outcomes = new Map<string, number>();
let loads = 0;

/**
 * Load `bytes` and classify the result. A successful load must also compute: forward() from a zero
 * state on a small input gives finite output and hN (the state is a convex mix of tanh values, so
 * |h| <= 1 whatever the weights). The head is linear, so a finite file can still overflow float32
 * there, as it would in PyTorch; its forecast must be finite whenever sum|w| + |b| <= FLT_MAX.
 */
function outcome(bytes: Uint8Array, format: 'safetensors' | 'onnx' = 'safetensors'): string {
  loads++;
  let model;
  try {
    model = modelFromBytes(bytes, { kernel: 'js', format });
  } catch (err) {
    if (!(err instanceof ModelError) || !(format === 'onnx' ? ONNX_CODES : MODEL_CODES).has((err as GruStreamError).code)) {
      throw new Error(`loader threw ${(err as Error)?.constructor?.name} ${(err as GruStreamError)?.code ?? ''}: ${(err as Error)?.message}`);
    }
    return tally((err as GruStreamError).code, format);
  }
  const { inputSize: I, numLayers: L, outputSize: O } = model.config;
  const input = [0.5, -1, 2].map((v) => [Array.from({ length: I }, (_, i) => v * (i + 1) / I), Array.from({ length: I }, () => -v)]);
  const r = model.forward(input);
  const finite = (a: number[][][]): boolean => a.every((t) => t.every((row) => row.every(Number.isFinite)));
  if (!finite(r.output) || !finite(r.hN) || r.hN.length !== L) throw new Error('a loaded model computed a non-finite state');
  if (O > 0 && !finite(r.forecast!) && headBound(model) <= FLT_MAX) throw new Error('a loaded model with a bounded head computed a non-finite forecast');
  return tally('loaded', format);
}

/** max over outputs of sum|w| + |b|, read from the packed head (the same for either file format). */
function headBound(model: GruModel): number {
  const { data, layout } = model.weights;
  const { hiddenSize: H, outputSize: O } = model.config;
  let bound = 0;
  for (let o = 0; o < O; o++) {
    let s = Math.abs(data[layout.head!.b + o]);
    for (let k = 0; k < H; k++) s += Math.abs(data[layout.head!.w + o * H + k]);
    bound = Math.max(bound, s);
  }
  return bound;
}

/** Outcomes are counted per format, so each format must reach each of its codes on its own. */
function tally(key: string, format: 'safetensors' | 'onnx'): string {
  outcomes.set(`${format}:${key}`, (outcomes.get(`${format}:${key}`) ?? 0) + 1);
  return key;
}

afterAll(() => {
  console.info(`model fuzz: ${loads} loads of mutated files (seed ${SEED}):`, Object.fromEntries(outcomes));
});

describe('model-file fuzzing', () => {
  it('finds the fixture models, and each loads unmutated', () => {
    expect(SAFETENSORS.some((b) => b.name.startsWith('golden/'))).toBe(true);
    expect(ONNX.length).toBeGreaterThan(0);
    for (const base of BASES) expect(outcome(base.bytes, base.onnx ? 'onnx' : 'safetensors')).toBe('loaded');
  });

  it('every strict prefix of every small fixture is ERR_MODEL_FORMAT', () => {
    // Exhaustive where cheap (files under 4 KiB); the large files get random cuts below.
    for (const { bytes } of SAFETENSORS.filter((b) => b.bytes.length < 4096)) {
      for (let n = 0; n < bytes.length; n++) expect(outcome(bytes.subarray(0, n))).toBe(ErrorCodes.ERR_MODEL_FORMAT);
    }
  });

  it('survives thousands of random mutations of every fixture', () => {
    const names = Object.keys(MUTATORS);
    const second = ['truncate', 'flipHeaderBytes', 'flipDataBytes', 'specialFloat', 'headerLength'];
    const arb = fc.record({
      base: fc.integer({ min: 0, max: SAFETENSORS.length - 1 }),
      mutator: fc.constantFrom(...names),
      then: fc.option(fc.constantFrom(...second), { freq: 3 }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(arb, ({ base, mutator, then, seed }) => {
        const rng = seededRandom(seed);
        let bytes = MUTATORS[mutator](SAFETENSORS[base].bytes, rng);
        // A second, byte-level blow only when the first left a parseable file to aim at.
        if (then !== null && outcome(bytes) === 'loaded') bytes = MUTATORS[then](bytes, rng);
        outcome(bytes);
      }),
      { numRuns: 6000, seed: SEED },
    );
  });

  it('any u64 header length is refused or honoured, never trusted', () => {
    const base = SAFETENSORS[0].bytes;
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => void outcome(withHeaderLength(base, n))), { numRuns: 500, seed: SEED });
  });

  it('any JSON value as the header, with the real data section', () => {
    const { data } = splitFile(SAFETENSORS[0].bytes);
    fc.assert(fc.property(fc.jsonValue(), (header) => void outcome(joinFile(JSON.stringify(header) ?? 'null', data))), { numRuns: 500, seed: SEED });
  });

  it('any metadata dictionary, with real tensors', () => {
    const { header, data } = splitFile(SAFETENSORS[0].bytes);
    const metadata = fc.dictionary(fc.oneof(fc.constantFrom('input_size', 'hidden_size', 'num_layers', 'variant', 'norm_std', '__proto__'), fc.string()), fc.oneof(fc.string(), fc.jsonValue()));
    fc.assert(fc.property(metadata, (meta) => void outcome(joinFile(JSON.stringify({ ...header, __metadata__: meta }), data))), { numRuns: 500, seed: SEED });
  });

  it('arbitrary bytes are never mistaken for a model', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => void expect(outcome(bytes)).not.toBe('loaded')), { numRuns: 500, seed: SEED });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => void expect(outcome(bytes, 'onnx')).not.toBe('loaded')), { numRuns: 500, seed: SEED });
  });

  it('survives thousands of random mutations of every ONNX fixture', () => {
    const names = Object.keys(ONNX_MUTATORS);
    const arb = fc.record({ base: fc.integer({ min: 0, max: ONNX.length - 1 }), mutator: fc.constantFrom(...names), then: fc.option(fc.constantFrom(...names), { freq: 3 }), seed: fc.integer() });
    fc.assert(
      fc.property(arb, ({ base, mutator, then, seed }) => {
        const rng = seededRandom(seed);
        let bytes = ONNX_MUTATORS[mutator](ONNX[base].bytes, rng);
        if (then !== null && outcome(bytes, 'onnx') === 'loaded') bytes = ONNX_MUTATORS[then](bytes, rng);
        outcome(bytes, 'onnx');
      }),
      { numRuns: 1200, seed: SEED },
    );
  });

  it('ran at least 7,500 loads, reached every ERR_MODEL_* check of each format, and left Object.prototype clean', () => {
    expect(loads).toBeGreaterThanOrEqual(7500);
    for (const key of ['loaded', ...MODEL_CODES]) expect(outcomes.get(`safetensors:${key}`) ?? 0).toBeGreaterThan(0);
    for (const key of ['loaded', ...ONNX_CODES]) expect(outcomes.get(`onnx:${key}`) ?? 0).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
