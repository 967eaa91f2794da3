import { finished, pipeline } from 'node:stream/promises';
import type { GruStreamError } from '../errors.js';
import { createFastPredict } from '../stream/fast-ndjson.js';
import { createNdjsonWriter } from '../stream/ndjson-writer.js';
import { BUNDLED_MODEL, bundledModelPath } from '../model/bundled-model.js';
import { type InputFormat, assertReadableFile, isCsvInput, openInput } from '../stream/open-input.js';
import { createPredictor } from '../stream/predictor.js';
import { type InvalidPolicy, PREDICTOR_NUMBERS } from '../stream/predictor-options.js';
import { flagErrors, intFlag, levelsFlag, parseCommandArgs, usageError } from './args.js';
import type { CliCommand } from './command.js';
import { MODEL_FLAGS, MODEL_FLAGS_HELP, loadModelArg } from './model-arg.js';

/** Library options and the flags that set them (option errors are reported as usage errors on the flag). */
const PREDICT_FLAGS = { workers: 'workers', horizon: 'horizon', capacity: 'capacity', onInvalid: 'on-invalid', format: 'format', interval: 'interval' };
const { workers, horizon, capacity } = PREDICTOR_NUMBERS;

/** Exit code when the run finished but some input lines or samples were rejected. */
export const EXIT_REJECTED = 3;

export const predictCommand: CliCommand = {
  name: 'predict',
  summary: 'stream samples (NDJSON or CSV) through a model, one NDJSON forecast per sample',
  help: `Usage: gru-stream predict [--model FILE] [--meta KEY=VALUE ...] [--input FILE|-] [--format ndjson|csv]
                          [--workers N] [--horizon K] [--capacity N] [--on-invalid report|output|fail]
                          [--interval LEVELS] [--with-actual]

Reads samples, keeps one hidden state per series, writes one NDJSON record per sample to stdout:
  {"series":"a","t":3,"forecast":[12.5]}      (forecast null when none exists yet)

Options:
  --model FILE       safetensors or ONNX model (default: the bundled ${BUNDLED_MODEL})
${MODEL_FLAGS_HELP}
  --input FILE|-     input file, or - for stdin (default -)
  --format F         ndjson or csv (default: csv for *.csv files, else ndjson)
                     NDJSON: {"series":"id","values":[...],"t":...} per line ("value" for one column)
                     CSV (RFC 4180: quotes, CRLF, BOM; R and pandas output): header row; the
                     model's columns are the values, a "series" column gives the id (else the file
                     name), t/time/date/year/index (else an unnamed first column) gives t
  --workers N        worker threads (default ${workers.fallback}: step on the main thread)
  --horizon K        forecast K steps ahead; adds "path": [[...] x K] (default ${horizon.fallback})
  --interval L       prediction intervals at level L (0.9) or levels L1,L2 (0.8,0.95): adds
                     "interval": {"level","lower","upper"} (or "intervals": [...]) per record, and
                     "intervalPath" with --horizon; bounds null until the series is calibrated
  --capacity N       series kept at once before least-recently-used eviction (default ${capacity.fallback})
  --with-actual      also print each sample's own values as "actual"
  --on-invalid P     report (default): errors to stderr only; output: also an error record in
                     the sample's place on stdout; fail: stop at the first bad sample

Errors go to stderr as "gru-stream: CODE: line N: message".
Exit codes: 0 every sample forecast, ${EXIT_REJECTED} some lines or samples rejected, 1 fatal error, 2 usage.`,
  async run(argv, io) {
    const { values: v, positionals } = parseCommandArgs('predict', argv, {
      ...MODEL_FLAGS,
      input: { type: 'string' },
      format: { type: 'string' },
      workers: { type: 'string' },
      horizon: { type: 'string' },
      capacity: { type: 'string' },
      'on-invalid': { type: 'string' },
      'with-actual': { type: 'boolean' },
      interval: { type: 'string' },
    });
    if (positionals.length > 0) throw usageError(`gru-stream predict: unexpected argument "${positionals[0]}"`);
    const options = {
      workers: intFlag('workers', v.workers as string | undefined),
      horizon: intFlag('horizon', v.horizon as string | undefined),
      interval: levelsFlag(v.interval as string | undefined),
      capacity: intFlag('capacity', v.capacity as string | undefined),
      onInvalid: v['on-invalid'] as InvalidPolicy | undefined,
    };
    const format = v.format as InputFormat | undefined;
    const model = await loadModelArg((v.model as string | undefined) ?? bundledModelPath(), v.meta);
    const predictor = await flagErrors(PREDICT_FLAGS, () => createPredictor(model, options));
    const inputPath = (v.input as string | undefined) ?? '-';
    if (inputPath !== '-') await assertReadableFile(inputPath, '--input');
    const input = await flagErrors(PREDICT_FLAGS, () => openInput(inputPath, model.config.columns, io.stdin, format));
    let rejected = 0;
    const report = (err: GruStreamError): void => {
      rejected++;
      io.stderr.write(`gru-stream: ${err.code}: ${err.message}\n`);
    };
    predictor.on('invalid', report);
    const withActual = v['with-actual'] === true;
    try {
      // Intervals are computed per record by the predictor's object path; the NDJSON fast path
      // prints point forecasts only, so it is used without --interval.
      if (isCsvInput(inputPath, format as InputFormat | undefined) || options.interval !== undefined) {
        input.parser.on('invalid', report);
        const writer = createNdjsonWriter({ omit: withActual ? [] : ['actual'] });
        await pipeline(input.source, input.parser, predictor, writer, io.stdout, { end: io.stdout !== process.stdout });
      } else {
        // NDJSON: the fast path parses, steps and prints in one transform (same output and errors).
        const fast = createFastPredict(predictor, { withActual });
        fast.on('invalid', report);
        try {
          await pipeline(input.source, fast, io.stdout, { end: io.stdout !== process.stdout });
        } finally {
          predictor.end();
          predictor.resume();
          await finished(predictor).catch(() => undefined);
        }
      }
    } catch (err) {
      // A closed stdout (`| head`) is the reader's choice, not a failure.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw err;
    }
    return rejected > 0 ? EXIT_REJECTED : 0;
  },
};
