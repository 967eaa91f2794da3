import type { GruStreamError } from '../errors.js';
import { DEFAULT_CHECKPOINT_INTERVAL_MS, type PredictJobResult, runPredictJob } from '../job/predict-job.js';
import { BUNDLED_MODEL, bundledModelPath } from '../model/bundled-model.js';
import { type InputFormat, assertReadableFile } from '../stream/open-input.js';
import { type InvalidPolicy, PREDICTOR_NUMBERS } from '../stream/predictor-options.js';
import { flagErrors, intFlag, levelsFlag, numberFlag, parseCommandArgs, usageError } from './args.js';
import type { CliCommand } from './command.js';
import { MODEL_FLAGS, MODEL_FLAGS_HELP, loadModelArg } from './model-arg.js';

/** Library options and the flags that set them (option errors are reported as usage errors on the flag). */
const PREDICT_FLAGS = { workers: 'workers', horizon: 'horizon', capacity: 'capacity', onInvalid: 'on-invalid', format: 'format', interval: 'interval', checkpointIntervalMs: 'checkpoint-interval' };
const { workers, horizon, capacity } = PREDICTOR_NUMBERS;

/** Exit code when the run finished but some input lines or samples were rejected. */
export const EXIT_REJECTED = 3;
/** Exit code after SIGINT/SIGTERM stopped a checkpointed run (the same command resumes it). */
export const EXIT_INTERRUPTED = 130;

function summary(r: PredictJobResult): string[] {
  const lines: string[] = [];
  if (r.evictions > 0) {
    lines.push(`gru-stream: evictions: ${r.evictions} (more series than --capacity ${r.capacity}; ${r.coldStarts} samples came from evicted series and restarted cold; raise --capacity to keep every series warm)`);
  }
  if (r.duplicates > 0) lines.push(`gru-stream: duplicates: ${r.duplicates} samples dropped (seq not above the last applied one of their series)`);
  return lines;
}

export const predictCommand: CliCommand = {
  name: 'predict',
  summary: 'stream samples (NDJSON or CSV) through a model, one NDJSON forecast per sample',
  help: `Usage: gru-stream predict [--model FILE] [--meta KEY=VALUE ...] [--input FILE|-] [--format ndjson|csv] [--output FILE]
                          [--workers N] [--horizon K] [--capacity N] [--on-invalid report|output|fail]
                          [--with-actual] [--state-dir DIR [--checkpoint-interval SECONDS]]

Reads samples, keeps one hidden state per series, writes one NDJSON record per sample:
  {"series":"a","t":3,"forecast":[12.5]}      (forecast null when none exists yet)

Options:
  --model FILE       safetensors or ONNX model (default: the bundled ${BUNDLED_MODEL})
${MODEL_FLAGS_HELP}
  --input FILE|-     input file, or - for stdin (default -)
  --format F         ndjson or csv (default: csv for *.csv files, else ndjson)
                     NDJSON: {"series":"id","values":[...],"t":...,"seq":n} per line ("value" for one
                     column; "seq", optional, increases per series: a sample at or below the last
                     applied seq of its series is a duplicate, dropped and counted)
                     CSV (RFC 4180: quotes, CRLF, BOM; R and pandas output): header row; the
                     model's columns are the values, a "series" column gives the id (else the file
                     name), t/time/date/year/index (else an unnamed first column) gives t
  --output FILE      write the records to FILE instead of stdout
  --workers N        worker threads (default ${workers.fallback}: step on the main thread)
  --horizon K        forecast K steps ahead; adds "path": [[...] x K] (default ${horizon.fallback})
  --interval L       prediction intervals at level L (0.9) or levels L1,L2 (0.8,0.95): adds
                     "interval": {"level","lower","upper"} (or "intervals": [...]) per record, and
                     "intervalPath" with --horizon; bounds null until the series is calibrated
  --capacity N       series kept at once before least-recently-used eviction (default ${capacity.fallback})
  --with-actual      also print each sample's own values as "actual"
  --on-invalid P     report (default): errors to stderr only; output: also an error record in
                     the line's place (one record per non-blank line); fail: stop at the first
                     bad line, after writing every record before it
  --state-dir DIR    checkpoint every series' state and the input position to DIR, and resume
                     from there when the same command runs again. With --output FILE and an input
                     file, a run killed at any moment and rerun gives exactly the bytes of an
                     uninterrupted run. SIGINT/SIGTERM checkpoint and exit ${EXIT_INTERRUPTED}.
  --checkpoint-interval S   seconds between checkpoints (default ${DEFAULT_CHECKPOINT_INTERVAL_MS / 1000})

Errors go to stderr as "gru-stream: CODE: line N: message".
Exit codes: 0 every sample forecast, ${EXIT_REJECTED} some lines or samples rejected, 1 fatal error
(including --on-invalid fail), 2 usage, ${EXIT_INTERRUPTED} interrupted (checkpointed).`,
  async run(argv, io) {
    const { values: v, positionals } = parseCommandArgs('predict', argv, {
      ...MODEL_FLAGS,
      input: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string' },
      workers: { type: 'string' },
      horizon: { type: 'string' },
      capacity: { type: 'string' },
      'on-invalid': { type: 'string' },
      'with-actual': { type: 'boolean' },
      interval: { type: 'string' },
      'state-dir': { type: 'string' },
      'checkpoint-interval': { type: 'string' },
    });
    if (positionals.length > 0) throw usageError(`gru-stream predict: unexpected argument "${positionals[0]}"`);
    const format = v.format as InputFormat | undefined;
    const stateDir = v['state-dir'] as string | undefined;
    const intervalS = numberFlag('checkpoint-interval', v['checkpoint-interval'] as string | undefined);
    if (intervalS !== undefined && stateDir === undefined) throw usageError('--checkpoint-interval needs --state-dir');
    const model = await loadModelArg((v.model as string | undefined) ?? bundledModelPath(), v.meta);
    const inputPath = (v.input as string | undefined) ?? '-';
    if (inputPath !== '-') await assertReadableFile(inputPath, '--input');
    const log = (line: string): void => void io.stderr.write(`${line}\n`);

    // With a state directory a signal is a clean stop: checkpoint, then exit.
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    if (stateDir !== undefined) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
    let result: PredictJobResult;
    try {
      result = await flagErrors(PREDICT_FLAGS, () => runPredictJob({
        model,
        input: inputPath,
        stdin: io.stdin,
        format,
        output: v.output as string | undefined,
        stdout: io.stdout,
        workers: intFlag('workers', v.workers as string | undefined),
        horizon: intFlag('horizon', v.horizon as string | undefined),
        capacity: intFlag('capacity', v.capacity as string | undefined),
        interval: levelsFlag(v.interval as string | undefined),
        onInvalid: v['on-invalid'] as InvalidPolicy | undefined,
        withActual: v['with-actual'] === true,
        stateDir,
        checkpointIntervalMs: intervalS === undefined ? undefined : intervalS * 1000,
        signal: stop.signal,
        log,
        onInvalidSample: (err: GruStreamError) => log(`gru-stream: ${err.code}: ${err.message}`),
      }));
    } finally {
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
    }
    if (io.stdout !== process.stdout && v.output === undefined) io.stdout.end();
    for (const line of summary(result)) log(line);
    if (result.failure) {
      log(`gru-stream: ${result.failure.code}: ${result.failure.message}`);
      return 1;
    }
    if (result.interrupted) return EXIT_INTERRUPTED;
    return result.rejected > 0 ? EXIT_REJECTED : 0;
  },
};
