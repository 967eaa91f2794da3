import { CheckpointError, ErrorCodes } from '../errors.js';
import type { StateSnapshot } from '../state/snapshot.js';

/**
 * The payload a predict job checkpoints (JSON inside the checkpoint format of src/checkpoint).
 * It is a consistent cut: `snapshot` is the state after every input line before `input.line`
 * (byte `input.offset`), and the output's first `output.length` bytes are exactly the records of
 * those lines, fsynced before the checkpoint was written. `snapshot` is Predictor.exportState()
 * whole, so whatever per-series state the predictor keeps travels without this file knowing it.
 */
export interface JobCheckpoint {
  kind: 'gru-stream-predict';
  version: 1;
  /** What must be equal for the checkpoint to apply to a run. */
  run: JobIdentity;
  /** null when the input cannot be sought (stdin, a pipe): resume relies on per-series seq. */
  input: { offset: number; line: number } | null;
  /** null when the output is a stream (stdout). */
  output: { length: number } | null;
  counters: JobCounters;
  snapshot: StateSnapshot;
}

export interface JobIdentity {
  input: string;
  output: string | null;
  format: string;
  horizon: number;
  capacity: number;
  onInvalid: string;
  withActual: boolean;
  /** The interval level(s) as JSON ("null" without). */
  interval: string;
}

export interface JobCounters {
  samplesIn: number;
  forecastsOut: number;
  rejected: number;
  duplicates: number;
  evictions: number;
  coldStarts: number;
}

export function encodeJobCheckpoint(c: Omit<JobCheckpoint, 'kind' | 'version'>): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'gru-stream-predict', version: 1, ...c }), 'utf8');
}

/** Parse a checkpoint payload and check it belongs to `run`; nothing is applied here. */
export function decodeJobCheckpoint(payload: Buffer, run: JobIdentity, file: string): JobCheckpoint {
  let c: JobCheckpoint;
  try {
    c = JSON.parse(payload.toString('utf8')) as JobCheckpoint;
  } catch {
    throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_CORRUPT, `${file}: the payload is not JSON`);
  }
  if (c?.kind !== 'gru-stream-predict' || c.version !== 1 || typeof c.run !== 'object' || typeof c.snapshot !== 'object') {
    throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_MISMATCH, `${file} is not a predict checkpoint (version 1)`);
  }
  const differs = (Object.keys(run) as Array<keyof JobIdentity>).filter((k) => c.run[k] !== run[k]);
  if (differs.length > 0) {
    const what = differs.map((k) => `${k} ${JSON.stringify(c.run[k])} there, ${JSON.stringify(run[k])} now`).join('; ');
    throw new CheckpointError(ErrorCodes.ERR_CHECKPOINT_MISMATCH, `${file} belongs to another run (${what}); rerun the same command, or use another --state-dir`, { differs });
  }
  return c;
}
