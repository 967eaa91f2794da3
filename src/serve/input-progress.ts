import { LineOffsets } from '../stream/line-offsets.js';
import type { LinePosition } from '../stream/resumable-input.js';

/**
 * How far `serve --input FILE --state-dir DIR` has applied its file, so a checkpoint can hold the
 * position with the state and a restart goes on from there instead of applying the file again.
 *
 * The input writes a Marker carrying this object and the next line after every sample; the marker
 * comes out of the predictor after that sample is applied (as /ingest's acks do), and moves
 * `nextLine`. A checkpoint reads position() in the same microtask as it copies the state, so the two
 * agree: every line before the position is in the state, none after it.
 */
export class InputProgress {
  readonly offsets: LineOffsets;
  /** The first line not applied yet. */
  nextLine: number;

  constructor(readonly path: string, start: LinePosition) {
    this.offsets = new LineOffsets(start.line, start.offset);
    this.nextLine = start.line;
  }

  /** The resume point: where nextLine starts (the end of what was read, past a last line without newline). */
  position(): LinePosition {
    const end = this.offsets.end();
    return this.nextLine >= end.line ? end : { offset: this.offsets.startOf(this.nextLine), line: this.nextLine };
  }

  /** Forget line starts before the checkpointed position (they are never needed again). */
  release(position: LinePosition): void {
    this.offsets.release(position.line);
  }
}

/** The token of the Marker an input writes after a sample of line `next - 1`. */
export interface InputMarkToken {
  progress: InputProgress;
  next: number;
}

export function isInputMark(token: unknown): token is InputMarkToken {
  return typeof token === 'object' && token !== null && (token as InputMarkToken).progress instanceof InputProgress;
}
