import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, type GruStreamError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import { createNdjsonParser } from '../../src/stream/ndjson-parser.js';
import { createCsvParser } from '../../src/stream/csv-parser.js';
import { createPredictor } from '../../src/stream/predictor.js';
import { trainedModels } from '../helpers/fixtures.js';
import { interleavedSamples, runPredictor } from '../helpers/run-predictor.js';

const modelPath = trainedModels().find((m) => m.name.startsWith('eustock'))?.modelPath ?? trainedModels()[0].modelPath;

describe('invalid samples', () => {
  it('are reported with codes; clean series stay bit-identical to a clean run', async () => {
    const model = await loadModel(modelPath);
    const C = model.config.inputSize;
    const clean = interleavedSamples(4, 25, C, 21);
    const bad: Array<[unknown, string]> = [
      [{ series: 's1', values: new Array(C).fill(Number.NaN) }, ErrorCodes.ERR_NON_FINITE],
      [{ series: 's2', values: new Array(C + 1).fill(1) }, ErrorCodes.ERR_INPUT_WIDTH],
      [{ values: new Array(C).fill(1) }, ErrorCodes.ERR_SERIES_ID],
      [{ series: 42, values: new Array(C).fill(1) }, ErrorCodes.ERR_SERIES_ID],
      [{ series: 's3', values: 'nope' }, ErrorCodes.ERR_SAMPLE_SHAPE],
      [42, ErrorCodes.ERR_SAMPLE_SHAPE],
      [{ series: 's0', values: new Array(C).fill(Number.POSITIVE_INFINITY) }, ErrorCodes.ERR_NON_FINITE],
      [{ series: 's1', values: new Array(C).fill('7') }, ErrorCodes.ERR_NON_FINITE],
    ];
    const mixed: unknown[] = [];
    clean.forEach((s, i) => {
      mixed.push(s);
      if (i % 11 === 5) mixed.push(bad[((i / 11) | 0) % bad.length][0]);
    });
    const expectedCodes = mixed.filter((s) => !clean.includes(s as never)).map((s) => bad.find(([b]) => b === s)![1]);
    const a = await runPredictor(model, clean);
    const b = await runPredictor(model, mixed);
    expect(b.invalid.map((e) => e.code)).toEqual(expectedCodes);
    expect(b.outputs).toEqual(a.outputs);
    expect(b.predictor.stats()).toMatchObject({ rejected: expectedCodes.length, forecastsOut: clean.length });
  });

  it('prototype-polluting ids are just ids', async () => {
    const model = await loadModel(modelPath);
    const C = model.config.inputSize;
    const ids = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    const samples = ids.flatMap((id) => [1, 2, 3].map((k) => ({ series: id, values: new Array(C).fill(10 * k) })));
    const run = await runPredictor(model, samples);
    expect(run.invalid).toEqual([]);
    expect(run.outputs.map((r) => r.series)).toEqual(samples.map((s) => s.series));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(run.predictor.stats().liveSeries).toBe(ids.length);
  });

  it("onInvalid 'output' puts an error record in the sample's place; 'fail' stops the stream", async () => {
    const model = await loadModel(modelPath);
    const C = model.config.inputSize;
    const samples = [{ series: 'a', values: new Array(C).fill(5) }, { series: 'a', values: [1], line: 2 }, { series: 'a', values: new Array(C).fill(6) }];
    const out = await runPredictor(model, samples, { onInvalid: 'output' });
    expect(out.outputs).toHaveLength(3);
    expect(out.outputs[1]).toMatchObject({ series: 'a', line: 2, error: { code: ErrorCodes.ERR_INPUT_WIDTH } });
    await expect(runPredictor(model, samples, { onInvalid: 'fail' })).rejects.toMatchObject({ code: ErrorCodes.ERR_INPUT_WIDTH });
  });

  it('knownSeries rejects other ids with ERR_UNKNOWN_SERIES', async () => {
    const model = await loadModel(modelPath);
    const C = model.config.inputSize;
    const run = await runPredictor(model, [{ series: 'ok', values: new Array(C).fill(3) }, { series: 'other', values: new Array(C).fill(3) }], { knownSeries: ['ok'] });
    expect(run.outputs).toHaveLength(1);
    expect(run.invalid.map((e) => [e.code, e.details.series])).toEqual([[ErrorCodes.ERR_UNKNOWN_SERIES, 'other']]);
  });

  it('malformed NDJSON and CSV lines are reported with their line numbers, the rest flows', async () => {
    const model = await loadModel(modelPath);
    const cols = model.config.columns;
    const C = cols.length;
    const row = (v: number) => new Array(C).fill(v);
    const ndjson = [JSON.stringify({ series: 'x', values: row(1) }), '{not json', '', '[1,2]', JSON.stringify({ series: 'x', values: row(2) }), JSON.stringify({ series: 'x', values: [...row(3).slice(1), null] })].join('\n');
    const csv = [`t,${cols.join(',')}`, `0,${row(1).join(',')}`, '1,2', `2,${row(2).join(',')}`, `3,${[...row(3).slice(1), 'abc'].join(',')}`].join('\n');
    for (const [parser, text, wantBad, wantOut] of [
      [createNdjsonParser(), ndjson, [[ErrorCodes.ERR_PARSE, 2], [ErrorCodes.ERR_SAMPLE_SHAPE, 4], [ErrorCodes.ERR_NON_FINITE, 6]], 2],
      [createCsvParser({ columns: cols, source: 'file' }), csv, [[ErrorCodes.ERR_PARSE, 3], [ErrorCodes.ERR_NON_FINITE, 5]], 2],
    ] as const) {
      const errors: GruStreamError[] = [];
      const outputs: unknown[] = [];
      const predictor = createPredictor(model);
      parser.on('invalid', (e: GruStreamError) => errors.push(e));
      predictor.on('invalid', (e) => errors.push(e));
      await pipeline(Readable.from([text]), parser, predictor, new Writable({ objectMode: true, write(r, _e, cb) { outputs.push(r); cb(); } }));
      expect(errors.map((e) => [e.code, e.details.line])).toEqual(wantBad);
      expect(outputs).toHaveLength(wantOut);
    }
  });
});
