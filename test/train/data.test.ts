// Reading training data: predict's CSV and NDJSON rules, value columns found by content, and the
// coded errors for data that cannot be trained on, each naming the line.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, type GruStreamError } from '../../src/errors.js';
import { splitAndCheck } from '../../src/train/checks.js';
import { readTrainingData } from '../../src/train/data.js';

async function codeOfAsync(p: Promise<unknown>): Promise<GruStreamError> {
  try {
    await p;
  } catch (err) {
    return err as GruStreamError;
  }
  throw new Error('expected a rejection');
}

const csv = (text: string): Readable => Readable.from([text]);

describe('readTrainingData', () => {
  it('CSV: numeric columns other than series and time are the values, series in order of appearance', async () => {
    const text = 'date,series,label,a,b\n2020-01,x,foo,1,10\n2020-01,y,bar,2,20\n2020-02,x,foo,3,30\n';
    const data = await readTrainingData(csv(text));
    expect(data.columns).toEqual(['a', 'b']);
    expect(data.series.map((s) => s.id)).toEqual(['x', 'y']);
    expect(Array.from(data.series[0].values)).toEqual([1, 10, 3, 30]);
    expect(Array.from(data.series[0].lines)).toEqual([2, 4]);
    const picked = await readTrainingData(csv(text), { columns: ['b'] });
    expect(picked.columns).toEqual(['b']);
    expect(Array.from(picked.series[1].values)).toEqual([20]);
  });

  it('a file: the base name is the series id; quoted headers and R row names are read like predict reads them', async () => {
    const data = await readTrainingData('test/fixtures/data/nottem.csv');
    expect(data.columns).toEqual(['value']);
    expect(data.series).toHaveLength(1);
    expect(data.series[0].id).toBe('nottem');
    expect(data.series[0].rows).toBe(240);
    const r = await readTrainingData(csv('"","x"\n"1",5\n"2",6\n'));
    expect(r.columns).toEqual(['x']);
    expect(Array.from(r.series[0].values)).toEqual([5, 6]);
  });

  it('NDJSON (sniffed) and in-memory samples', async () => {
    const lines = '{"series":"a","value":1}\n{"series":"b","values":[2]}\n{"series":"a","value":3}\n';
    const data = await readTrainingData(csv(lines));
    expect(data.columns).toEqual(['value']);
    expect(data.series.map((s) => [s.id, Array.from(s.values)])).toEqual([['a', [1, 3]], ['b', [2]]]);
    const mem = await readTrainingData([{ series: 's', values: [1, 2] }, { series: 's', values: [3, 4] }], { columns: ['p', 'q'] });
    expect(mem.columns).toEqual(['p', 'q']);
    expect(Array.from(mem.series[0].values)).toEqual([1, 2, 3, 4]);
  });

  it('a missing or non-numeric value is ERR_NON_FINITE with its line; a short row ERR_PARSE with its line', async () => {
    const nan = await codeOfAsync(readTrainingData(csv('t,v\n1,1\n2,NA\n3,4\n')));
    expect(nan.code).toBe(ErrorCodes.ERR_NON_FINITE);
    expect(nan.details.line).toBe(3);
    const short = await codeOfAsync(readTrainingData(csv('t,v,w\n1,1,2\n2,3\n')));
    expect(short.code).toBe(ErrorCodes.ERR_PARSE);
    expect(short.details.line).toBe(3);
    const empty = await codeOfAsync(readTrainingData(csv('t,v\n')));
    expect(empty.code).toBe(ErrorCodes.ERR_TOO_FEW_ROWS);
    const io = await codeOfAsync(readTrainingData('test/fixtures/data/no-such-file.csv'));
    expect(io.code).toBe(ErrorCodes.ERR_INPUT_IO);
  });
});

describe('splitAndCheck', () => {
  const rows = (n: number, f: (i: number) => number): string => `t,v\n${Array.from({ length: n }, (_, i) => `${i},${f(i)}`).join('\n')}\n`;

  it('validation is the last fraction of every series', async () => {
    const data = await readTrainingData(csv(rows(100, (i) => Math.sin(i))));
    expect(splitAndCheck(data, 0.2)).toEqual([80]);
    expect(splitAndCheck(data, 0.5)).toEqual([50]);
  });

  it('too few rows: ERR_TOO_FEW_ROWS naming the series and its last line', async () => {
    const data = await readTrainingData(csv(rows(15, (i) => i * i)));
    const err = await codeOfAsync((async () => splitAndCheck(data, 0.2))());
    expect(err.code).toBe(ErrorCodes.ERR_TOO_FEW_ROWS);
    expect(err.details).toMatchObject({ series: 'csv', rows: 15, line: 16 });
  });

  it('a constant column: ERR_CONSTANT_SERIES with the column and its first line', async () => {
    const data = await readTrainingData(csv(rows(50, () => 7)));
    const err = await codeOfAsync((async () => splitAndCheck(data, 0.2))());
    expect(err.code).toBe(ErrorCodes.ERR_CONSTANT_SERIES);
    expect(err.details).toMatchObject({ column: 'v', line: 2 });
  });
});
