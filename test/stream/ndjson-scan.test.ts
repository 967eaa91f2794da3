// The native NDJSON scanner and number printer against JavaScript's own JSON.parse and Number#toString,
// on random numbers in every notation and on lines at the edge of the sample shape.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineKind, META_STRIDE, Meta, ScanBuffers, createMessageScanner, ndjsonAddon, ndjsonScan, portableScan } from '../../src/stream/ndjson-scan.js';

const addon = ndjsonAddon();
const native = addon?.scanNdjson !== undefined;
const FLOAT32_MAX = 3.4028234663852886e38;

/** Scan one line of `columns` values; the kind and the values. */
function scanOne(line: string, columns: number, positiveOnly = false): { kind: number; values: number[] } {
  const b = new ScanBuffers(4, columns, 256, positiveOnly);
  const n = ndjsonScan()(Buffer.from(`${line}\n`), 0, Buffer.byteLength(line) + 1, b);
  expect(n).toBe(1);
  return { kind: b.meta[Meta.KIND], values: Array.from(b.values.subarray(0, columns)) };
}

/** A JSON number's text: any sign, digits, fraction and exponent, including long and extreme ones. */
const jsonNumberText = fc
  .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,24})$/), fc.option(fc.stringMatching(/^[0-9]{1,24}$/)), fc.option(fc.tuple(fc.constantFrom('e', 'E', 'e+', 'e-', 'E-'), fc.integer({ min: 0, max: 400 }))))
  .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `${exp[0]}${exp[1]}`}`);

describe.runIf(native)('native NDJSON scanner', () => {
  it('reads every number as JSON.parse does, or leaves the line to it (non-finite, beyond float32)', () => {
    let fast = 0;
    fc.assert(
      fc.property(jsonNumberText, jsonNumberText, (a, b) => {
        const { kind, values } = scanOne(`{"series":"s","values":[${a},${b}]}`, 2);
        const want = [JSON.parse(a) as number, JSON.parse(b) as number];
        const usable = want.every((v) => Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX);
        if (kind === LineKind.FAST) {
          fast++;
          expect(values.every((v, i) => Object.is(v, want[i])), `${a} ${b}`).toBe(true);
        } else {
          expect(kind).toBe(LineKind.GENERAL);
        }
        expect(kind === LineKind.FAST || !usable || /e-\d{3}|E-\d{3}/.test(a + b)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // Exponents reach 400, so many lines are beyond float32 on purpose; a good share must still be read.
    expect(fast).toBeGreaterThan(600);
  });

  it('reads doubles printed by String() back exactly (float32 values as the bench prints them too)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -FLOAT32_MAX, max: FLOAT32_MAX }), fc.float({ noNaN: true, noDefaultInfinity: true }), (x, f) => {
        const { kind, values } = scanOne(`{"series":"s","values":[${x},${f}]}`, 2);
        expect(kind).toBe(LineKind.FAST);
        expect(Object.is(values[0], x) || (x === 0 && values[0] === 0)).toBe(true);
        expect(Object.is(values[1], f) || (f === 0 && values[1] === 0)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the sample shape in any key order and spacing, and leaves everything else to JSON.parse', () => {
    const fastLines = [
      '{"series":"a","values":[1,2]}',
      ' { "values" : [ 1 , 2 ] , "series" : "a" } \r',
      '{"series":"a","values":[1,2],"t":7,"seq":3}',
      '{"seq":0,"t":"2024-01-01","series":"a b/c","values":[-0.5,1e-3]}',
    ];
    const generalLines = [
      '{"series":"a","values":[1,2],"extra":1}', // unknown key: JSON.parse + checkSample decide
      '{"series":"a","series":"b","values":[1,2]}', // duplicate key
      '{"series":"a\\u0062","values":[1,2]}', // escape
      '{"series":"é","values":[1,2]}', // non-ASCII id
      '{"series":"","values":[1,2]}',
      '{"series":"a","values":[1]}',
      '{"series":"a","values":[1,2,3]}',
      '{"series":"a","values":[01,2]}',
      '{"series":"a","values":[1.,2]}',
      '{"series":"a","values":[.5,2]}',
      '{"series":"a","values":[+1,2]}',
      '{"series":"a","values":[1,2],"seq":-1}',
      '{"series":"a","values":[1,2],"seq":1.0}',
      '{"series":"a","values":[1,2],"seq":1234567890123456}',
      '{"series":"a","values":[1,2],"t":null}',
      '{"series":"a","values":[1,2],"value":3}',
      '{"series":"a","values":[1,2]} x',
      '{"series":"a","values":[NaN,2]}',
      '{"series":"a","values":[1e39,2]}',
      '[1,2]',
      '\uFEFF{"series":"a","values":[1,2]}',
    ];
    for (const line of fastLines) expect(scanOne(line, 2).kind, line).toBe(LineKind.FAST);
    for (const line of generalLines) expect(scanOne(line, 2).kind, line).toBe(LineKind.GENERAL);
    expect(scanOne('{"series":"a","value":4}', 1)).toEqual({ kind: LineKind.FAST, values: [4] });
    expect(scanOne('{"series":"a","values":[0,2]}', 2, true).kind).toBe(LineKind.GENERAL);
    expect(scanOne(' \t\r', 2).kind).toBe(LineKind.BLANK);
  });

  it('finds the same lines as the portable scanner, with spans that exclude "\\r\\n"', () => {
    const text = Buffer.from('{"series":"a","values":[1,2]}\r\n\n  \nnot json\n{"series":"b","values":[3,4]}\npartial');
    const a = new ScanBuffers(16, 2, 256, false);
    const b = new ScanBuffers(16, 2, 256, false);
    const n = ndjsonScan()(text, 0, text.length, a);
    expect(portableScan(text, 0, text.length, b)).toBe(n);
    expect(n).toBe(5);
    for (let i = 0; i < n; i++) {
      expect(a.meta[i * META_STRIDE + Meta.START]).toBe(b.meta[i * META_STRIDE + Meta.START]);
      expect(a.meta[i * META_STRIDE + Meta.END]).toBe(b.meta[i * META_STRIDE + Meta.END]);
    }
    expect(text.toString('latin1', a.meta[Meta.START], a.meta[Meta.END])).toBe('{"series":"a","values":[1,2]}');
  });
});

describe.runIf(native)('native number printer', () => {
  it('prints every double exactly as JSON.stringify does', () => {
    const texts = (values: number[]): string[] => {
      const out = Buffer.alloc(values.length * 33);
      const n = addon!.numberTexts!(Float64Array.from(values), out);
      return out.toString('latin1', 0, n).split(',').slice(0, -1);
    };
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), fc.float().map(Number), fc.integer().map((i) => i * 1e-9), fc.constantFrom(0, -0, 1e21, 1e-7, 1e-6, 123e20, 5e-324, 2 ** 53)), { minLength: 1, maxLength: 64 }), (values) => {
        expect(texts(values)).toEqual(values.map((v) => JSON.stringify(v)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe.runIf(native)('native /ingest message reader', () => {
  const scan = createMessageScanner(2, false)!;

  it('gives exactly the objects JSON.parse gives for samples of the usual shape, one or an array', () => {
    const sample = fc.record(
      { series: fc.stringMatching(/^[a-zA-Z0-9_.:/ -]{1,20}$/), values: fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }), fc.float({ noNaN: true, noDefaultInfinity: true }).map(Number)), t: fc.oneof(fc.integer(), fc.stringMatching(/^[0-9T:-]{1,20}$/)), seq: fc.nat({ max: 2 ** 40 }) },
      { requiredKeys: ['series', 'values'] },
    );
    fc.assert(
      fc.property(fc.oneof(sample, fc.array(sample, { maxLength: 20 })), fc.constantFrom(0, 1), (message, indent) => {
        const text = JSON.stringify(message, null, indent);
        const got = scan(Buffer.from(text));
        expect(got).not.toBeNull();
        expect(got!.batch).toBe(Array.isArray(message));
        expect(got!.samples).toEqual(Array.isArray(message) ? JSON.parse(text) : [JSON.parse(text)]);
      }),
      { numRuns: 500 },
    );
  });

  it('on arbitrary bytes either agrees with JSON.parse or leaves the message to it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: fc.constantFrom(...'{}[],:"0123456789.-eE series values value t seq '.split('')), maxLength: 80 })), (text) => {
        const bytes = Buffer.from(text, 'latin1');
        const got = scan(bytes);
        if (got === null) return;
        const parsed = JSON.parse(bytes.toString('latin1')) as unknown;
        expect(got.samples).toEqual(Array.isArray(parsed) ? parsed : [parsed]);
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves every other message to JSON.parse', () => {
    for (const text of ['', 'null', '[1]', '{"series":"a","values":[1,2]', '[{"series":"a","values":[1,2]},{"series":"b","values":[1]}]', '{"series":"a","values":[1,2],"x":1}', '[{"series":"a","values":[1,2]}] []']) {
      expect(scan(Buffer.from(text)), text).toBeNull();
    }
    expect(scan(Buffer.from(' [ ] '))).toEqual({ samples: [], batch: true });
  });
});
