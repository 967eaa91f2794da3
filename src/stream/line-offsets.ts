/**
 * Where each line of an input begins, for the lines read but not yet released, so a consumer that
 * has applied everything before line L can name the byte where L starts: the resume point of a
 * checkpoint. Lines end at '\n' (a '\r' before it belongs to the line), as LineSplitter and
 * csv-parse count them.
 */
export class LineOffsets {
  /** starts[i] = byte offset of line baseLine + i - head. */
  private starts: number[] = [];
  private head = 0;
  private baseLine: number;
  private position: number;

  constructor(firstLine: number, startOffset: number) {
    this.baseLine = firstLine;
    this.position = startOffset;
    this.starts.push(startOffset);
  }

  /** Account for the next chunk of the input, in order. */
  record(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) this.starts.push(this.position + i + 1);
    this.position += buf.length;
  }

  /** Byte offset where `line` starts; it must have been read and not released. */
  startOf(line: number): number {
    const i = this.head + line - this.baseLine;
    if (i < this.head || i >= this.starts.length) throw new RangeError(`line ${line} is not held (lines ${this.baseLine}..${this.baseLine + this.starts.length - this.head - 1})`);
    return this.starts[i];
  }

  /** The input's end so far: {offset: bytes read, line: the number the next line would get}. */
  end(): { offset: number; line: number } {
    const last = this.starts[this.starts.length - 1];
    const lines = this.starts.length - this.head;
    // A last line without '\n' was read too: the end is past it.
    return { offset: this.position, line: this.baseLine + lines - 1 + (last < this.position ? 1 : 0) };
  }

  /** Forget the starts of lines before `line`. */
  release(line: number): void {
    const i = Math.min(this.head + line - this.baseLine, this.starts.length - 1);
    if (i <= this.head) return;
    this.baseLine += i - this.head;
    this.head = i;
    if (this.head > 4096 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
  }
}
