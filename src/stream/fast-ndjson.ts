import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCodes, type GruStreamError, InputError, isGruStreamError } from '../errors.js';
import { scanNumber, scannedNumber } from './fast-number.js';
import { LineSplitter } from './line-splitter.js';
import type { Predictor } from './predictor.js';
import { MAX_SERIES_ID_LENGTH } from '../state/series-id.js';
import { checkSample } from './sample.js';

export interface FastPredictOptions {
  /** Print each sample's own values as "actual" (predict --with-actual). */
  withActual: boolean;
}

const PREFIX = '{"series":"';
const VALUES = '","values":[';
const VALUE = '","value":';

/**
 * `gru-stream predict` for NDJSON in one Transform: bytes in, NDJSON forecast text out, one push per
 * input chunk, no sample or record objects for lines of the usual shape.
 *
 *   chunk ─► lines ─► {"series":"id","values":[n,...]} ─► ids + float64 rows ─┐
 *                    └ anything else: JSON.parse + checkSample (the object     ├► predictor.stepRows ─► text
 *                      path's own code, so its errors and line numbers) ───────┘
 *
 * The output is byte for byte what parser → predictor → NDJSON writer print (tested on the same
 * inputs, good and bad), with the same 'invalid' events: parse errors on this stream, sample errors
 * on the predictor, as the CLI listens for them. The predictor must not be written to otherwise.
 */
export function createFastPredict(predictor: Predictor, options: FastPredictOptions): Transform {
  const { model } = predictor;
  const columns = model.config.columns;
  const C = columns.length;
  const O = model.config.outputSize;
  const { horizon: H, onInvalid, knownSeries } = predictor.options;
  const normaliser = predictor.normaliserForFastPath();
  const lines = new LineSplitter();
  // The rows of one chunk; grown when a chunk holds more lines than ever before.
  let values = new Float64Array(1024 * C);
  let ids: string[] = [];
  let fastId: boolean[] = [];
  let ts: Array<number | string | undefined> = [];
  /** Error records ('output') to print before row i; index count = after the last row. */
  let errorsBefore: Array<string[] | undefined> = [];
  let rejected = 0;
  let failure: GruStreamError | null = null;
  const levels = new Float64Array(H * Math.max(1, O));

  function addRow(id: string, fast: boolean, t: number | string | undefined): number {
    const i = ids.length;
    if ((i + 1) * C > values.length) {
      const grown = new Float64Array(values.length * 2);
      grown.set(values);
      values = grown;
    }
    ids.push(id);
    fastId.push(fast);
    ts.push(t);
    return i * C;
  }

  /** A line of exactly the sample shape, or false (nothing kept) for the general path. */
  function parseFast(text: string): boolean {
    if (!text.startsWith(PREFIX)) return false;
    const idStart = PREFIX.length;
    let i = idStart;
    const end = text.length;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) break; // '"'
      if (c === 92 || c < 32) return false; // an escape or a control character: JSON.parse decides
    }
    const idLength = i - idStart;
    if (i >= end || idLength === 0 || idLength > MAX_SERIES_ID_LENGTH) return false;
    const many = text.startsWith(VALUES, i);
    if (!many && !text.startsWith(VALUE, i)) return false;
    i += many ? VALUES.length : VALUE.length;
    const row = ids.length * C;
    if ((ids.length + 1) * C > values.length) return false; // room is made by addRow; rare, take the general path
    let n = 0;
    for (;;) {
      i = scanNumber(text, i, end);
      if (i < 0 || n === C || !Number.isFinite(scannedNumber) || normaliser.rejectValue(scannedNumber) !== null) return false;
      values[row + n++] = scannedNumber;
      if (!many) break;
      const c = text.charCodeAt(i);
      if (c === 93) { // ']'
        i++;
        break;
      }
      if (c !== 44) return false; // ','
      i++;
    }
    if (n !== C || i !== end - 1 || text.charCodeAt(i) !== 125) return false; // '}' ends the line
    const id = text.slice(idStart, idStart + idLength);
    if (knownSeries && !knownSeries.has(id)) return false;
    addRow(id, true, undefined);
    return true;
  }

  /** The object path for one line: the NDJSON parser's checks, then the predictor's. */
  function parseGeneral(text: string, line: number): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      stream.emit('invalid', new InputError(ErrorCodes.ERR_PARSE, `line ${line}: not valid JSON (${(err as Error).message})`, { line }));
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      stream.emit('invalid', new InputError(ErrorCodes.ERR_SAMPLE_SHAPE, `line ${line}: a sample must be a JSON object like {"series": "...", "values": [...]}`, { line }));
      return;
    }
    (value as Record<string, unknown>).line = line;
    try {
      const s = checkSample(value, columns, normaliser, knownSeries);
      const at = addRow(s.series, false, s.t);
      for (let c = 0; c < C; c++) values[at + c] = s.values[c];
    } catch (err) {
      if (!isGruStreamError(err)) throw err;
      rejected++;
      if (onInvalid === 'fail') {
        failure = err;
        return;
      }
      predictor.emit('invalid', err);
      if (onInvalid === 'output') {
        const rec = { error: err.toJSON(), ...(err.details.series ? { series: err.details.series } : {}), ...(err.details.line !== undefined ? { line: err.details.line } : {}) };
        (errorsBefore[ids.length] ??= []).push(`${JSON.stringify(rec)}\n`);
      }
    }
  }

  function onLine(text: string, line: number): void {
    if (failure || text.trim() === '') return;
    if (!parseFast(text)) parseGeneral(text, line);
  }

  const num = (v: number): string => (Number.isFinite(v) ? String(v) : 'null');

  /** Step the chunk's rows and print them (and error records) in input order. */
  async function drain(): Promise<string> {
    const count = ids.length;
    const rowIds = ids;
    const rowFast = fastId;
    const rowTs = ts;
    const rowValues = values;
    const errors = errorsBefore;
    ids = [];
    fastId = [];
    ts = [];
    errorsBefore = [];
    let text = '';
    await predictor.stepRows(count, (i) => predictor.acquireSlot(rowIds[i]), rowValues, (i, row, steps, out) => {
      const before = errors[i];
      if (before) for (const e of before) text += e;
      const id = rowFast[i] ? `"${rowIds[i]}"` : JSON.stringify(rowIds[i]);
      const t = rowTs[i];
      text += `{"series":${id},"t":${t === undefined ? steps : JSON.stringify(t)},"forecast":`;
      let path = '';
      if (row < 0) {
        text += 'null';
        if (H > 1) path = ',"path":null';
      } else {
        for (let k = 0; k < H; k++) {
          let step = '[';
          for (let o = 0; o < O; o++) {
            const level = k === 0 ? rowValues[i * C + o] : levels[(k - 1) * O + o];
            levels[k * O + o] = normaliser.decodeValue(out[(row * H + k) * O + o], o, level);
            step += `${o > 0 ? ',' : ''}${num(levels[k * O + o])}`;
          }
          step += ']';
          if (k === 0) text += step;
          if (H > 1) path += `${k === 0 ? ',"path":[' : ','}${step}${k === H - 1 ? ']' : ''}`;
        }
      }
      if (options.withActual) {
        text += ',"actual":[';
        for (let c = 0; c < C; c++) text += `${c > 0 ? ',' : ''}${num(rowValues[i * C + c])}`;
        text += ']';
      }
      text += `${path}}\n`;
    });
    const after = errors[count];
    if (after) for (const e of after) text += e;
    predictor.countDirect(count + rejected, count, rejected);
    rejected = 0;
    return text;
  }

  function finish(callback: TransformCallback): void {
    drain().then(
      (text) => {
        if (text !== '') stream.push(text);
        callback(failure);
      },
      (err: unknown) => callback(err as Error),
    );
  }

  const stream: Transform = new Transform({
    transform(chunk: Buffer | string, _enc, callback: TransformCallback) {
      lines.push(chunk, onLine, (err) => stream.emit('invalid', err));
      finish(callback);
    },
    flush(callback: TransformCallback) {
      lines.end(onLine);
      finish(callback);
    },
  });
  return stream;
}
