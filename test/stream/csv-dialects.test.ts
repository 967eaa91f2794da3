// CSV as people write it (RFC 4180, R's write.csv, pandas' to_csv) gives the same forecasts as the
// plain file, and errors keep the physical line their record starts on.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, type GruStreamError, InputError } from '../../src/errors.js';
import { createCsvParser } from '../../src/stream/csv-parser.js';
import { trainedModels } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';

const model = trainedModels().find((m) => m.name.startsWith('sunspot')) ?? trainedModels()[0];
const plainText = readFileSync(model.csvPath, 'utf8');
const plainRows = plainText.trim().split('\n').map((l) => l.split(','));
const dir = mkdtempSync(join(tmpdir(), 'gru-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quote = (cell: string): string => `"${cell.replaceAll('"', '""')}"`;

/** A table written under DIR/sub with the original's file name (the series id is the base name). */
function writeAt(sub: string, text: string): string {
  mkdirSync(join(dir, sub), { recursive: true });
  const path = join(dir, sub, basename(model.csvPath));
  writeFileSync(path, text);
  return path;
}

interface Parsed {
  samples: Record<string, unknown>[];
  invalid: GruStreamError[];
}

async function parse(text: string | Buffer, columns: readonly string[] = ['value']): Promise<Parsed> {
  const samples: Record<string, unknown>[] = [];
  const invalid: GruStreamError[] = [];
  const parser = createCsvParser({ columns, source: 'f' });
  parser.on('invalid', (e: GruStreamError) => invalid.push(e));
  await pipeline(Readable.from([text]), parser, new Writable({ objectMode: true, write(s, _e, cb) { samples.push(s); cb(); } }));
  return { samples, invalid };
}

async function predictFile(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(['predict', '--model', model.modelPath, '--input', path]);
}

describe('CSV dialects', () => {
  it('a quoted CRLF file with a BOM gives byte-identical predict output to the plain file', async () => {
    const quoted = `\ufeff${plainRows.map((r) => r.map(quote).join(',')).join('\r\n')}\r\n`;
    const plain = await predictFile(model.csvPath);
    const variant = await predictFile(writeAt('quoted', quoted));
    expect(plain.code).toBe(0);
    expect(variant.code).toBe(0);
    expect(variant.stderr).toBe('');
    expect(variant.stdout).toBe(plain.stdout);
    expect(variant.stdout.split('\n').length - 1).toBe(plainRows.length - 1);
  });

  it("R's write.csv (quoted header and strings, row names, NA): same forecasts, NA rejected at its line, t from the row names", async () => {
    const rows = plainRows.slice(0, 41);
    const naRow = 20;
    const r = [['', ...rows[0]].map(quote).join(',')];
    for (let k = 1; k < rows.length; k++) {
      const [date, time, value] = rows[k];
      r.push([quote(String(k)), quote(date), time, k === naRow ? 'NA' : value].join(','));
    }
    const rPath = writeAt('r', `${r.join('\n')}\n`);
    const plainPath = writeAt('plain', `${rows.map((x) => x.join(',')).join('\n')}\n`);
    const fromR = await predictFile(rPath);
    const plain = await predictFile(plainPath);
    expect(fromR.stderr).toMatch(new RegExp(`ERR_NON_FINITE: line ${naRow + 1}: value is "NA"`));
    const a = fromR.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const b = plain.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(a).toHaveLength(rows.length - 2);
    expect(a.slice(0, naRow - 1).map((x) => x.forecast)).toEqual(b.slice(0, naRow - 1).map((x) => x.forecast));
    // A named time column wins over the row names; without one, the row names give t.
    expect(a.slice(0, 3).map((x) => x.t)).toEqual(b.slice(0, 3).map((x) => x.t));
    const unnamedTime = r.join('\n').replace('"","date","time","value"', '"","d","tt","value"');
    expect((await parse(unnamedTime)).samples.slice(0, 3).map((s) => s.t)).toEqual([1, 2, 3]);
  });

  it("pandas' to_csv (unnamed index column): same forecasts as the plain file, t from the index", async () => {
    const rows = plainRows.slice(0, 30);
    const text = [`,${rows[0].join(',')}`, ...rows.slice(1).map((x, i) => `${i},${x.join(',')}`)].join('\n');
    const pandas = await predictFile(writeAt('pandas', text));
    const plain = await predictFile(writeAt('plain30', rows.map((x) => x.join(',')).join('\n')));
    const a = pandas.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const b = plain.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(pandas.code).toBe(0);
    expect(a.map((x) => x.forecast)).toEqual(b.map((x) => x.forecast));
    // A named time column wins over the index: the plain file's t is its "date".
    expect(a.map((x) => x.t)).toEqual(b.map((x) => x.t));
    expect((await parse(text.replace(/^,date,time,/, ',d,tt,'))).samples.map((s) => s.t).slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('embedded commas, quotes and line breaks in quoted cells; later errors keep their physical line', async () => {
    const text = ['series,value', '"a,b",1', '"say ""hi""",2', '"two\r\nlines",3', '"three\nline\nid",4', 'c', '"d",NA', 'e,5'].join('\r\n');
    const { samples, invalid } = await parse(text);
    expect(samples.map((s) => [s.series, s.values, s.line])).toEqual([
      ['a,b', [1], 2],
      ['say "hi"', [2], 3],
      ['two\r\nlines', [3], 4],
      ['three\nline\nid', [4], 6],
      ['d', ['NA'], 10],
      ['e', [5], 11],
    ]);
    expect(invalid.map((e) => [e.code, e.details.line])).toEqual([[ErrorCodes.ERR_PARSE, 9]]);
  });

  it('blank lines and a BOM before the header are skipped; a header without the columns is fatal at its line', async () => {
    const ok = await parse(Buffer.from('\ufeff\n\n"value"\n7\n', 'utf8'));
    expect(ok.samples.map((s) => [s.values, s.line])).toEqual([[[7], 4]]);
    await expect(parse('\n"t","level"\n1,2\n')).rejects.toMatchObject({ code: ErrorCodes.ERR_PARSE, details: { line: 2 } });
  });

  it('broken quoting is fatal ERR_PARSE naming the line its record starts on', async () => {
    for (const [text, line] of [
      ['value\n1\n2\n"3\n4\n', 4],
      ['value\n1\n"2"x\n3\n', 3],
    ] as const) {
      const err = await parse(text).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe(ErrorCodes.ERR_PARSE);
      expect((err as InputError).details.line).toBe(line);
      expect((err as InputError).message).toMatch(new RegExp(`^line ${line}: `));
    }
  });
});
