import type { GruStreamError } from '../errors.js';

/** One accepted sample waiting for its forecast, in input order. */
export interface BatchEntry {
  series: string;
  t: number | string;
  actual: number[];
  line: number | undefined;
  /** The series' state slot (-1 for an error record). */
  slot: number;
  /** Kernel row of this sample, or -1 when it is not stepped (no input yet, or an error record). */
  row: number;
  error?: GruStreamError;
  /** With onInvalid 'fail': the rejection that ends the stream; entries before it are pushed, it is not. */
  fatal?: boolean;
  /** A Marker's token: emitted as 'marker' when the batch completes, no record. */
  marker?: unknown;
  /** The sample's seq, echoed in its record. */
  seq?: number;
}

/**
 * A micro-batch: the samples gathered in one event-loop turn, at most one per series, stepped
 * together. Buffers are allocated once per predictor (two batches alternate) and reused.
 */
export class Batch {
  seq = 0;
  entries: BatchEntry[] = [];
  rows = 0;
  readonly slots: Int32Array;
  readonly inputs: Float32Array;
  readonly out: Float32Array;

  constructor(maxBatch: number, inputSize: number, outputPerRow: number) {
    this.slots = new Int32Array(maxBatch);
    this.inputs = new Float32Array(maxBatch * inputSize);
    this.out = new Float32Array(Math.max(1, maxBatch * outputPerRow));
  }

  reuse(seq: number): void {
    this.seq = seq;
    this.entries = [];
    this.rows = 0;
  }
}
