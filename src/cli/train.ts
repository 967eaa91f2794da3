import { writeFile } from 'node:fs/promises';
import type { DataFormat } from '../train/data.js';
import { train } from '../train/engine.js';
import type { TrainTransform } from '../train/encode.js';
import { plotSvg } from '../train/plot.js';
import type { TrainReport } from '../train/report.js';
import { flagErrors, intFlag, numberFlag, parseCommandArgs, usageError } from './args.js';
import type { CliCommand } from './command.js';
import { progressPrinter } from './train-progress.js';

/** train() options and the flags that set them (its option errors are reported as usage errors on the flag). */
const TRAIN_FLAGS = {
  columns: 'columns',
  format: 'format',
  transform: 'transform',
  hidden: 'hidden',
  layers: 'layers',
  ensemble: 'ensemble',
  epochs: 'epochs',
  window: 'window',
  batch: 'batch',
  lr: 'lr',
  weightDecay: 'weight-decay',
  validationFraction: 'validation-fraction',
  seed: 'seed',
  threads: 'threads',
  timeBudget: 'time-budget',
};

function fixed(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

/** The closing lines: what was chosen, and how it compares with the naive forecasts. */
export function summaryText(report: TrainReport, out: string): string {
  const c = report.chosen;
  const b = report.baselines;
  const valRows = report.series.reduce((a, s) => a + s.validationRows, 0);
  const cols = report.columns;
  const perCol = (v: number[]): string => (cols.length === 1 ? fixed(v[0]) : cols.map((n, i) => `${n} ${fixed(v[i])}`).join(', '));
  const lines = [
    `wrote ${out}: GRU(${cols.length}, ${c.hiddenSize}, ${c.layers}) + Linear = ${c.members} member(s) x H ${c.memberHidden} averaged, transform ${c.transform}, ${report.seconds.toFixed(1)} s`,
    `  validation MAE (${valRows} rows): ${perCol(c.valMae)}   persistence ${perCol(b.persistence)}${b.seasonalNaive ? `   seasonal naive (${b.period}) ${perCol(b.seasonalNaive)}` : ''}`,
    `  compared (MAE / persistence): ${report.trials.map((t) => `${t.transform} H${t.hidden} x${t.members} ${fixed(t.valScore)}`).join(', ')}`,
    `  best epochs: ${c.bestEpochs.join(', ')} (of at most ${report.plan.maxEpochs}); window ${report.plan.window}`,
  ];
  if (report.deadlineHit) lines.push('  note: the time budget cut some runs short; a rerun may not give the same bytes (raise --time-budget)');
  return `${lines.join('\n')}\n`;
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'train a GRU forecaster from a CSV or NDJSON file (chooses transform, size, epochs)',
  help: `Usage: gru-stream train --input FILE|- --out MODEL.safetensors [options]

Trains one GRU + linear head over every series of the input, keeping the last part of each series
to validate: validation picks the input transform, the hidden size and the epoch, and the shipped
model is the average of several seeds (stored as one wider nn.GRU). The file loads in predict, serve,
loadModel and PyTorch (state_dict names of nn.GRU + nn.Linear).

Input (predict's rules): CSV with a header (a "series" column trains one model over several series;
values are every numeric column other than series and t/time/date/year/index, unless --columns);
or NDJSON samples {"series":"id","values":[...]} ("value" for one column).

Options:
  --input FILE|-            training data (- = stdin)
  --out FILE                where to write the model (.safetensors)
  --format F                csv or ndjson (default: from the extension, else sniffed)
  --columns a,b             value columns (default: all numeric ones)
  --transform T             auto (default), zscore, diff+zscore or log_return+zscore
  --hidden N                hidden size of each member (default: chosen, 32 or 16)
  --layers N                GRU layers (default 1)
  --ensemble K              members averaged into the model (default 4)
  --epochs N                most epochs per run (default: what the time budget allows, <= 400)
  --window N                time steps per training window (default: 3 seasons or 48, <= 128)
  --batch N                 windows per Adam step (default 32, less on small data)
  --lr X                    Adam learning rate (default 0.003)
  --weight-decay X          Adam L2 weight decay (default 0.0001)
  --validation-fraction X   last part of each series used to validate (default 0.2)
  --seed N                  seed (default 1); same seed, data and threads give the same bytes
  --threads N               runs trained side by side (default: cores, at most 4)
  --time-budget SECONDS     the whole run's time (default 60)
  --report FILE.json        the whole history: every run, epoch, loss and choice
  --plot FILE.svg           loss curves and validation forecasts against actuals
  --quiet                   print nothing but errors

Errors: ERR_TOO_FEW_ROWS, ERR_CONSTANT_SERIES, ERR_NON_FINITE (NaN, or <= 0 under a log
transform), ERR_PARSE, each with the line. Exit codes: 0 written, 1 error, 2 usage.`,
  async run(argv, io) {
    const { values: v, positionals } = parseCommandArgs('train', argv, {
      input: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      columns: { type: 'string' },
      transform: { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      ensemble: { type: 'string' },
      epochs: { type: 'string' },
      window: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      'weight-decay': { type: 'string' },
      'validation-fraction': { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
      'time-budget': { type: 'string' },
      report: { type: 'string' },
      plot: { type: 'string' },
      quiet: { type: 'boolean' },
    });
    if (positionals.length > 0) throw usageError(`gru-stream train: unexpected argument "${positionals[0]}"`);
    const s = (k: string): string | undefined => v[k] as string | undefined;
    const input = s('input');
    const out = s('out');
    if (input === undefined) throw usageError('gru-stream train: --input FILE (or - for stdin) is required');
    if (out === undefined) throw usageError('gru-stream train: --out MODEL.safetensors is required');
    const quiet = v.quiet === true;
    const int = (name: string): number | undefined => intFlag(name, s(name));
    const num = (name: string): number | undefined => numberFlag(name, s(name));
    const options = {
      columns: s('columns')?.split(',').map((c) => c.trim()),
      format: s('format') as DataFormat | undefined,
      transform: s('transform') as 'auto' | TrainTransform | undefined,
      hidden: int('hidden'),
      layers: int('layers'),
      ensemble: int('ensemble'),
      epochs: int('epochs'),
      window: int('window'),
      batch: int('batch'),
      lr: num('lr'),
      weightDecay: num('weight-decay'),
      validationFraction: num('validation-fraction'),
      seed: int('seed'),
      threads: int('threads'),
      timeBudget: num('time-budget'),
      ...(quiet ? {} : { onProgress: progressPrinter(io.stderr) }),
    };
    const source = input === '-' ? io.stdin : input;
    const result = await flagErrors(TRAIN_FLAGS, () => train(source, Object.fromEntries(Object.entries(options).filter(([, x]) => x !== undefined))));
    await writeFile(out, result.bytes);
    if (s('report')) await writeFile(s('report')!, `${JSON.stringify(result.report, null, 1)}\n`);
    if (s('plot')) await writeFile(s('plot')!, plotSvg(result.report));
    if (!quiet) io.stdout.write(summaryText(result.report, out));
    return 0;
  },
};
