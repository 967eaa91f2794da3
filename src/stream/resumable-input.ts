import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { InputFormat } from './open-input.js';
import type { LineOffsets } from './line-offsets.js';

/** A resume point in an input file: the byte and the number of the first line not applied. */
export interface LinePosition {
  offset: number;
  line: number;
}

/** The lines at the top of a CSV file up to its header (the first non-blank line), to replay before a resumed offset. */
async function csvHeaderPrefix(path: string): Promise<{ bytes: Buffer; lines: number }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let at = 0;
    let lines = 0;
    for (;;) {
      const nl = buf.indexOf(10, at);
      if (nl === -1 || nl >= bytesRead) return { bytes: buf.subarray(0, bytesRead), lines: lines + 1 };
      lines++;
      const blank = buf.subarray(at, nl).toString('utf8').replace(/^\uFEFF/, '').trim() === '';
      at = nl + 1;
      if (!blank) return { bytes: Buffer.from(buf.subarray(0, at)), lines };
    }
  } finally {
    await fh.close();
  }
}

async function* readFrom(path: string, start: number, prefix: Buffer | null, offsets: LineOffsets | null): AsyncGenerator<Buffer> {
  if (prefix) yield prefix;
  for await (const chunk of createReadStream(path, { start, highWaterMark: 1 << 16 })) {
    offsets?.record(chunk as Buffer);
    yield chunk as Buffer;
  }
}

/**
 * An input file read from `start` (a checkpoint's position, or the beginning), each chunk recorded
 * in `offsets` (when given) so a later checkpoint can name the byte where a line starts. A CSV
 * resumed mid-file is preceded by its header lines again (the header says which cell is which),
 * numbered so that the line at `start` keeps its number: `firstLine` is what the parser is told.
 */
export async function openInputAt(path: string, format: InputFormat, start: LinePosition, offsets: LineOffsets | null): Promise<{ source: Readable; firstLine: number }> {
  let firstLine = start.line;
  let prefix: Buffer | null = null;
  if (format === 'csv' && start.offset > 0) {
    const header = await csvHeaderPrefix(path);
    prefix = header.bytes;
    firstLine = start.line - header.lines;
  }
  return { source: Readable.from(readFrom(path, start.offset, prefix, offsets)), firstLine };
}
