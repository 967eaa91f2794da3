import { ErrorCodes, InputError } from '../errors.js';

/** No sample line is anywhere near this long; a longer one is garbage or an attack, not data. */
export const MAX_LINE_BYTES = 1 << 20;

/** The report for line `line` when it is longer than MAX_LINE_BYTES (it is skipped). */
export function overLongLine(line: number): InputError {
  return new InputError(ErrorCodes.ERR_PARSE, `line ${line}: longer than ${MAX_LINE_BYTES} bytes, skipped`, { line });
}

/**
 * Splits a byte stream into lines (\n or \r\n), tracking 1-based line numbers, without holding
 * more than one partial line. An over-long line is reported once and skipped to its end.
 */
export class LineSplitter {
  private partial = '';
  private skipping = false;
  private lineNo: number;
  private readonly decoder = new TextDecoder('utf-8');

  /** `firstLine`: the number of the first line fed (a resumed input starts mid-file). */
  constructor(firstLine = 1) {
    this.lineNo = firstLine - 1;
  }

  /** Feed a chunk; calls onLine(text, lineNo) per complete line and onError for over-long ones. */
  push(chunk: Buffer | string, onLine: (text: string, line: number) => void, onError: (err: InputError) => void): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      this.lineNo++;
      if (this.skipping) {
        this.skipping = false;
        this.partial = '';
        continue;
      }
      const line = this.partial + piece;
      this.partial = '';
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line, this.lineNo);
    }
    if (this.skipping) return;
    this.partial += text.slice(start);
    if (this.partial.length > MAX_LINE_BYTES) {
      onError(overLongLine(this.lineNo + 1));
      this.partial = '';
      this.skipping = true;
    }
  }

  /** End of input: a last line without a newline still counts. */
  end(onLine: (text: string, line: number) => void): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    if (rest.length > 0 && !this.skipping) onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest, ++this.lineNo);
  }
}
