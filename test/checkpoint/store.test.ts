import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/checkpoint/format.js';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { CheckpointError } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'gru-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `d${dirs++}`);

const meta = { key: 'k', generation: 3, fingerprint: 'sha256:ab', writtenAt: '2026-11-29T00:00:00.000Z' };
const payloadArb = fc.uint8Array({ minLength: 0, maxLength: 2048 });

/** Damage a file's bytes: cut it short, or flip one to four bits anywhere in it. */
const damageArb = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
  fc.record({ kind: fc.constant('flip' as const), bits: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 4 }) }),
);
type Damage = typeof damageArb extends fc.Arbitrary<infer T> ? T : never;

function damage(bytes: Buffer, d: Damage): Buffer {
  if (d.kind === 'truncate') return bytes.subarray(0, Math.floor(d.at * bytes.length));
  const out = Buffer.from(bytes);
  const flipped = new Set<number>();
  for (const b of d.bits) flipped.add(Math.floor(b * out.length * 8));
  for (const bit of flipped) out[bit >> 3] ^= 1 << (bit & 7);
  return out;
}

describe('checkpoint format', () => {
  it('round-trips any payload', () => {
    fc.assert(fc.property(payloadArb, (payload) => {
      const d = decodeCheckpoint(encodeCheckpoint(meta, payload));
      expect(d.ok).toBe(true);
      if (d.ok) {
        expect(d.meta).toEqual(meta);
        expect(Buffer.compare(d.payload, Buffer.from(payload))).toBe(0);
      }
    }), { numRuns: 200 });
  });

  it('refuses every truncation and every flip of 1-4 bits, anywhere in the file', () => {
    fc.assert(fc.property(payloadArb, damageArb, (payload, d) => {
      const decoded = decodeCheckpoint(damage(encodeCheckpoint(meta, payload), d));
      expect(decoded.ok).toBe(false);
    }), { numRuns: 500 });
  });
});

function fileOf(dir: string, key: string, generation: number): string {
  return join(dir, `${key}.${String(generation).padStart(12, '0')}.ckpt`);
}

describe('checkpoint store', () => {
  it('after any number of writes and damage to the newest file, reads the previous payload and names the skipped file', async () => {
    await fc.assert(fc.asyncProperty(fc.array(payloadArb, { minLength: 2, maxLength: 5 }), damageArb, async (payloads, d) => {
      const dir = freshDir();
      const store = await CheckpointStore.open({ dir, key: 'predict', fingerprint: 'fp' });
      for (const p of payloads) await store.write(p);
      const n = payloads.length;
      // Only the newest and the previous good one are kept.
      expect(readdirSync(dir).sort()).toEqual([fileOf(dir, 'predict', n - 1), fileOf(dir, 'predict', n)].map((f) => f.slice(dir.length + 1)));
      const newest = fileOf(dir, 'predict', n);
      writeFileSync(newest, damage(readFileSync(newest), d));
      const reopened = await CheckpointStore.open({ dir, key: 'predict', fingerprint: 'fp' });
      const got = await reopened.read();
      expect(got?.generation).toBe(n - 1);
      expect(Buffer.compare(got!.payload, Buffer.from(payloads[n - 2]))).toBe(0);
      expect(got!.skipped.map((s) => s.file)).toEqual([`predict.${String(n).padStart(12, '0')}.ckpt`]);
      // The next write keeps the good fallback and replaces the damaged file.
      await reopened.write(new Uint8Array([7]));
      expect(readdirSync(dir).length).toBe(2);
      expect((await (await CheckpointStore.open({ dir, key: 'predict', fingerprint: 'fp' })).read())?.payload).toEqual(Buffer.from([7]));
    }), { numRuns: 40 });
  });

  it('reads nothing from an empty directory, and refuses with a code when every file is damaged', async () => {
    const dir = freshDir();
    const store = await CheckpointStore.open({ dir, key: 'a', fingerprint: 'fp' });
    expect(await store.read()).toBeNull();
    await store.write(new Uint8Array([1]));
    await store.write(new Uint8Array([2]));
    truncateSync(fileOf(dir, 'a', 2), 10);
    truncateSync(fileOf(dir, 'a', 1), 0);
    const err = await (await CheckpointStore.open({ dir, key: 'a', fingerprint: 'fp' })).read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).code).toBe('ERR_CHECKPOINT_CORRUPT');
  });

  it("refuses another model's checkpoint without falling back to an older one", async () => {
    const dir = freshDir();
    const a = await CheckpointStore.open({ dir, key: 'p', fingerprint: 'model-a' });
    await a.write(new Uint8Array([1]));
    const err = await (await CheckpointStore.open({ dir, key: 'p', fingerprint: 'model-b' })).read().catch((e: unknown) => e);
    expect((err as CheckpointError).code).toBe('ERR_CHECKPOINT_MODEL');
  });

  it('keeps keys in one directory independent (one store per partition)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), payloadArb), { minLength: 1, maxLength: 12 }), async (writes) => {
      const dir = freshDir();
      const stores = await Promise.all([0, 1, 2, 3].map((i) => CheckpointStore.open({ dir, key: `part.${i}`, fingerprint: 'fp' })));
      const last = new Map<number, Uint8Array>();
      await Promise.all(writes.map(([i, p]) => {
        last.set(i, p);
        return stores[i].write(p);
      }));
      for (let i = 0; i < 4; i++) {
        const got = await (await CheckpointStore.open({ dir, key: `part.${i}`, fingerprint: 'fp' })).read();
        if (last.has(i)) expect(Buffer.compare(got!.payload, Buffer.from(last.get(i)!))).toBe(0);
        else expect(got).toBeNull();
      }
    }), { numRuns: 30 });
  });

  it('removes a torn temp file left by a crash and never reads it', async () => {
    const dir = freshDir();
    const s = await CheckpointStore.open({ dir, key: 'x', fingerprint: 'fp' });
    await s.write(new Uint8Array([5]));
    writeFileSync(`${fileOf(dir, 'x', 2)}.tmp`, 'torn');
    const reopened = await CheckpointStore.open({ dir, key: 'x', fingerprint: 'fp' });
    expect(readdirSync(dir)).toEqual(['x.000000000001.ckpt']);
    expect((await reopened.read())?.payload).toEqual(Buffer.from([5]));
  });

  it('refuses an unsafe key with a code', async () => {
    for (const key of ['', '../x', 'a/b', '.hidden']) {
      const err = await CheckpointStore.open({ dir: freshDir(), key, fingerprint: 'fp' }).catch((e: unknown) => e);
      expect((err as CheckpointError).code).toBe('ERR_CHECKPOINT_IO');
    }
  });
});

describe('model fingerprint', () => {
  it('agrees for two loads of one file and differs between models', async () => {
    const { loadModel } = await import('../../src/model/load-model.js');
    const { modelFingerprint } = await import('../../src/checkpoint/fingerprint.js');
    const { fixturesDir } = await import('../helpers/fixtures.js');
    const path = (name: string) => join(fixturesDir, 'models', `${name}.safetensors`);
    const [a1, a2, b] = await Promise.all([loadModel(path('sunspot_gru')), loadModel(path('sunspot_gru')), loadModel(path('eustock_gru'))]);
    expect(modelFingerprint(a1)).toBe(modelFingerprint(a2));
    expect(modelFingerprint(a1)).not.toBe(modelFingerprint(b));
    expect(modelFingerprint(a1)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
