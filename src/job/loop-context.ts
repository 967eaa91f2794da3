import type { GruStreamError } from '../errors.js';
import type { InputFormat } from '../stream/open-input.js';
import type { Predictor } from '../stream/predictor.js';
import type { JobCheckpointer } from './job-checkpointer.js';
import type { LineOffsets } from '../stream/line-offsets.js';
import type { OutputSink } from './output-sink.js';

/** What a predict job's loop (object-loop.ts, row-loop.ts) works with. */
export interface LoopContext {
  predictor: Predictor;
  sink: OutputSink;
  /** The input's path ('-' for stdin) and format, for the parser. */
  path: string;
  format: InputFormat;
  /** Number of the first line the source yields. */
  firstLine: number;
  /** Where each held input line starts (a seekable, checkpointed input), else null. */
  offsets: LineOffsets | null;
  checkpointer: JobCheckpointer | null;
  signal?: AbortSignal;
  /** Called with each sample's series before it is written (the job counts cold restarts of evicted series). */
  onSeries: (series: string) => void;
  withActual: boolean;
}

export interface LoopOutcome {
  /** The rejection that stopped the job under onInvalid 'fail'. */
  failure: GruStreamError | null;
  interrupted: boolean;
  /** A failure of the machinery (input, predictor, checkpoint): the job throws it. */
  broken: Error | null;
}
