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
import { parseSafetensors } from '../../src/model/safetensors.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { seededRandom } from './random-model.js';
import { MUTATORS } from './mutators.js';
import { joinFile, splitFile, withHeaderLength } from './safetensors-bytes.js';

/** Fixed so CI failures reproduce; FUZZ_SEED explores further. */
const SEED = Number(process.env.FUZZ_SEED ?? 20250611);
const MODEL_CODES: ReadonlySet<string> = new Set([ErrorCodes.ERR_MODEL_FORMAT, ErrorCodes.ERR_MODEL_SHAPE, ErrorCodes.ERR_MODEL_METADATA, ErrorCodes.ERR_MODEL_VALUES]);
const FLT_MAX = 3.4028234663852886e38;

// Found by listing, so GRU_STREAM_FIXTURES (the acceptance set) is fuzzed the same way.
const BASES = ['golden', 'models'].filter((dir) => existsSync(join(fixturesDir, dir))).flatMap((dir) =>
  readdirSync(join(fixturesDir, dir))
    .filter((f) => f.endsWith('.safetensors'))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, bytes: new Uint8Array(readFileSync(join(fixturesDir, dir, f))) })),
);

const outcomes = new Map<string, number>();
let loads = 0;

/**
 * Load `bytes` and classify the result. A successful load must also compute: forward() from a zero
 * state on a small input gives finite output and hN (the state is a convex mix of tanh values, so
 * |h| <= 1 whatever the weights). The head is linear, so a finite file can still overflow float32
 * there, as it would in PyTorch; its forecast must be finite whenever sum|w| + |b| <= FLT_MAX.
 */
function outcome(bytes: Uint8Array): string {
  loads++;
  let model;
  try {
    model = modelFromBytes(bytes, { kernel: 'js' });
  } catch (err) {
    if (!(err instanceof ModelError) || !MODEL_CODES.has((err as GruStreamError).code)) {
      throw new Error(`loader threw ${(err as Error)?.constructor?.name} ${(err as GruStreamError)?.code ?? ''}: ${(err as Error)?.message}`);
    }
    return tally((err as GruStreamError).code);
  }
  const { inputSize: I, numLayers: L, outputSize: O } = model.config;
  const input = [0.5, -1, 2].map((v) => [Array.from({ length: I }, (_, i) => v * (i + 1) / I), Array.from({ length: I }, () => -v)]);
  const r = model.forward(input);
  const finite = (a: number[][][]): boolean => a.every((t) => t.every((row) => row.every(Number.isFinite)));
  if (!finite(r.output) || !finite(r.hN) || r.hN.length !== L) throw new Error('a loaded model computed a non-finite state');
  if (O > 0 && !finite(r.forecast!) && headBound(bytes) <= FLT_MAX) throw new Error('a loaded model with a bounded head computed a non-finite forecast');
  return tally('loaded');
}

function headBound(bytes: Uint8Array): number {
  const { tensors } = parseSafetensors(bytes);
  const w = tensors.get('head.weight')!;
  const b = tensors.get('head.bias')!;
  const H = w.shape[1];
  let bound = 0;
  for (let o = 0; o < b.data.length; o++) {
    let s = Math.abs(b.data[o]);
    for (let k = 0; k < H; k++) s += Math.abs(w.data[o * H + k]);
    bound = Math.max(bound, s);
  }
  return bound;
}

function tally(key: string): string {
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  return key;
}

afterAll(() => {
  console.info(`model fuzz: ${loads} loads of mutated files (seed ${SEED}):`, Object.fromEntries(outcomes));
});

describe('model-file fuzzing', () => {
  it('finds the fixture models, and each loads unmutated', () => {
    expect(BASES.some((b) => b.name.startsWith('golden/'))).toBe(true);
    for (const base of BASES) expect(outcome(base.bytes)).toBe('loaded');
  });

  it('every strict prefix of every small fixture is ERR_MODEL_FORMAT', () => {
    // Exhaustive where cheap (files under 4 KiB); the large files get random cuts below.
    for (const { bytes } of BASES.filter((b) => b.bytes.length < 4096)) {
      for (let n = 0; n < bytes.length; n++) expect(outcome(bytes.subarray(0, n))).toBe(ErrorCodes.ERR_MODEL_FORMAT);
    }
  });

  it('survives thousands of random mutations of every fixture', () => {
    const names = Object.keys(MUTATORS);
    const second = ['truncate', 'flipHeaderBytes', 'flipDataBytes', 'specialFloat', 'headerLength'];
    const arb = fc.record({
      base: fc.integer({ min: 0, max: BASES.length - 1 }),
      mutator: fc.constantFrom(...names),
      then: fc.option(fc.constantFrom(...second), { freq: 3 }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(arb, ({ base, mutator, then, seed }) => {
        const rng = seededRandom(seed);
        let bytes = MUTATORS[mutator](BASES[base].bytes, rng);
        // A second, byte-level blow only when the first left a parseable file to aim at.
        if (then !== null && outcome(bytes) === 'loaded') bytes = MUTATORS[then](bytes, rng);
        outcome(bytes);
      }),
      { numRuns: 6000, seed: SEED },
    );
  });

  it('any u64 header length is refused or honoured, never trusted', () => {
    const base = BASES[0].bytes;
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => void outcome(withHeaderLength(base, n))), { numRuns: 500, seed: SEED });
  });

  it('any JSON value as the header, with the real data section', () => {
    const { data } = splitFile(BASES[0].bytes);
    fc.assert(fc.property(fc.jsonValue(), (header) => void outcome(joinFile(JSON.stringify(header) ?? 'null', data))), { numRuns: 500, seed: SEED });
  });

  it('any metadata dictionary, with real tensors', () => {
    const { header, data } = splitFile(BASES[0].bytes);
    const metadata = fc.dictionary(fc.oneof(fc.constantFrom('input_size', 'hidden_size', 'num_layers', 'variant', 'norm_std', '__proto__'), fc.string()), fc.oneof(fc.string(), fc.jsonValue()));
    fc.assert(fc.property(metadata, (meta) => void outcome(joinFile(JSON.stringify({ ...header, __metadata__: meta }), data))), { numRuns: 500, seed: SEED });
  });

  it('arbitrary bytes are never mistaken for a model', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => void expect(outcome(bytes)).not.toBe('loaded')), { numRuns: 500, seed: SEED });
  });

  it('ran at least 5,000 loads, reached every ERR_MODEL_* check, and left Object.prototype clean', () => {
    expect(loads).toBeGreaterThanOrEqual(5000);
    for (const key of ['loaded', ...MODEL_CODES]) expect(outcomes.get(key) ?? 0).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
