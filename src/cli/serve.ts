import { once } from 'node:events';
import { bundledModelPath } from '../model/bundled-model.js';
import { DEFAULT_HOST, DEFAULT_LIMITS, DEFAULT_PORT, DEFAULT_RATE, DEFAULT_REPLAY_PATH } from '../serve/options.js';
import { serve } from '../serve/server.js';
import { PREDICTOR_NUMBERS } from '../stream/predictor-options.js';
import { packagePath } from '../util/package-root.js';
import { flagErrors, intFlag, levelsFlag, numberFlag, parseCommandArgs, usageError } from './args.js';
import type { CliCommand } from './command.js';
import { MODEL_FLAGS, MODEL_FLAGS_HELP, loadModelArg } from './model-arg.js';
import { MQTT_ARGS, MQTT_HELP, mqttOptionsFromArgs } from './mqtt-args.js';

/** serve() options and the flags that set them (option errors are reported as usage errors on the flag). */
const SERVE_FLAGS = {
  stateDir: 'state-dir',
  checkpointIntervalMs: 'checkpoint-interval',
  host: 'host',
  port: 'port',
  token: 'token',
  format: 'format',
  replay: 'replay',
  rate: 'rate',
  series: 'series',
  workers: 'workers',
  capacity: 'capacity',
  horizon: 'horizon',
  interval: 'interval',
  'limits.history': 'history',
  'mqtt.url': 'mqtt',
  'mqtt.topic': 'mqtt-topic',
  'mqtt.seriesLevel': 'mqtt-series-level',
  'mqtt.publish': 'mqtt-publish',
  'mqtt.clientId': 'mqtt-client-id',
};

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'serve live forecasts over WebSocket, with a dashboard and Prometheus metrics',
  help: `Usage: gru-stream serve [OPTIONS]

Forecast samples as they arrive and publish the forecasts live:
  GET /            dashboard (charts of actual vs forecast, live accuracy vs persistence)
  WS  /forecasts   forecasts, accuracy and invalid-input reports as JSON messages (?series=a,b)
  WS  /ingest      producers push JSON samples (one object or an array per message)
  GET /healthz     JSON status          GET /metrics   Prometheus text

With no --model, --input or --replay it runs the bundled demo: the sunspot GRU replaying the
monthly sunspot numbers (series "sunspot_month") at ${DEFAULT_RATE} samples/s, looping.

Options:
  --model FILE        safetensors or ONNX model (default: the bundled sunspot model)
${MODEL_FLAGS_HELP}
  --host HOST         address to listen on (default ${DEFAULT_HOST})
  --port N            port (default ${DEFAULT_PORT}; 0 = any free port)
  --token T           require this token on both WebSocket endpoints
                      (Authorization: Bearer T or ?token=T); default: $GRU_STREAM_TOKEN
  --input FILE|-      NDJSON or CSV samples to forecast (- = stdin)
  --format F          ndjson or csv (default: from the extension, .csv = csv)
  --replay CSV        replay a CSV at --rate samples per second
  --rate N            replay rate, samples per second (default ${DEFAULT_RATE})
  --loop              start the replay over at the end (default with no arguments)
  --series ID         series id for CSV rows without a series column (default: the file name)
  --workers N         predictor worker threads (default ${PREDICTOR_NUMBERS.workers.fallback} = main thread)
  --capacity N        series kept at once, least recently used evicted past it (default ${PREDICTOR_NUMBERS.capacity.fallback})
  --horizon N         forecast steps per sample (default ${PREDICTOR_NUMBERS.horizon.fallback})
  --interval L        prediction intervals at level L (0.9) or levels L1,L2: in forecast messages,
                      drawn as a band on the dashboard, coverage in accuracy, /healthz, /metrics
  --history N         forecasts per series sent to a new subscriber (default ${DEFAULT_LIMITS.history})
  --state-dir DIR     checkpoint every series' state to DIR every --checkpoint-interval seconds
                      (default 1) and at shutdown, and restore it at start; /ingest producers get
                      {"type":"durable","upTo":N} once a checkpoint holds their messages 1..N
  --checkpoint-interval S   seconds between checkpoints (default 1)

${MQTT_HELP}

Runs until SIGINT or SIGTERM, then closes connections (code 1001) and exits 0.
See docs/serving.md for message shapes, close codes and metric names.`,
  async run(argv, io) {
    const { values } = parseCommandArgs('serve', argv, {
      ...MODEL_FLAGS,
      host: { type: 'string' },
      port: { type: 'string' },
      token: { type: 'string' },
      input: { type: 'string' },
      format: { type: 'string' },
      replay: { type: 'string' },
      rate: { type: 'string' },
      loop: { type: 'boolean' },
      series: { type: 'string' },
      workers: { type: 'string' },
      capacity: { type: 'string' },
      horizon: { type: 'string' },
      interval: { type: 'string' },
      history: { type: 'string' },
      ...MQTT_ARGS,
      'state-dir': { type: 'string' },
      'checkpoint-interval': { type: 'string' },
    });
    const str = (k: string): string | undefined => values[k] as string | undefined;
    // No model and no data: the bundled demo, replaying the bundled CSV forever.
    const mqtt = mqttOptionsFromArgs(values, io.env);
    const demo = str('model') === undefined && str('input') === undefined && str('replay') === undefined && mqtt === undefined;
    if (str('rate') !== undefined && str('replay') === undefined && !demo) throw usageError('--rate needs --replay');
    const token = str('token') ?? (io.env.GRU_STREAM_TOKEN || undefined);
    const rate = numberFlag('rate', str('rate'));
    const interval = numberFlag('checkpoint-interval', str('checkpoint-interval'));
    if (interval !== undefined && str('state-dir') === undefined) throw usageError('--checkpoint-interval needs --state-dir');
    const modelPath = str('model');
    const options = {
      // With --meta the CLI loads the model itself (serve() takes a path or a loaded model).
      model: values.meta === undefined ? modelPath : await loadModelArg(modelPath ?? bundledModelPath(), values.meta),
      host: str('host'),
      port: intFlag('port', str('port')),
      token,
      input: str('input') === '-' ? io.stdin : str('input'),
      format: str('format') as 'ndjson' | 'csv' | undefined,
      replay: demo ? packagePath(DEFAULT_REPLAY_PATH) : str('replay'),
      rate,
      loop: demo || values.loop === true,
      series: str('series'),
      workers: intFlag('workers', str('workers')),
      capacity: intFlag('capacity', str('capacity')),
      horizon: intFlag('horizon', str('horizon')),
      interval: levelsFlag(str('interval')),
      limits: { history: intFlag('history', str('history')) },
      mqtt,
      log: (line: string) => io.stderr.write(`${line}\n`),
      stateDir: str('state-dir'),
      checkpointIntervalMs: interval === undefined ? undefined : interval * 1000,
    };
    const handle = await flagErrors(SERVE_FLAGS, () => serve(options));
    // One write, so a reader that waits for the URL line also has the demo line.
    const demoLine = demo ? `gru-stream: replaying the bundled sunspot data at ${rate ?? DEFAULT_RATE} samples/s (series "sunspot_month")\n` : '';
    io.stdout.write(`${demoLine}gru-stream: dashboard at ${handle.url}${token !== undefined ? ' (add ?token=TOKEN)' : ''}\n`);
    const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    io.stderr.write(`gru-stream: ${String(signal[0] ?? 'signal')} received, closing\n`);
    await handle.close();
    return 0;
  },
};
