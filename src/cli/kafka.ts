import { once } from 'node:events';
import { kafkaSecurityFromEnv } from '../kafka/kafka-env.js';
import { runKafka } from '../kafka/run-kafka.js';
import { BUNDLED_MODEL, bundledModelPath } from '../model/bundled-model.js';
import { flagErrors, intFlag, parseCommandArgs, usageError } from './args.js';
import type { CliCommand } from './command.js';
import { MODEL_FLAGS, MODEL_FLAGS_HELP, loadModelArg } from './model-arg.js';
import { MQTT_ARGS, mqttOptionsFromArgs } from './mqtt-args.js';

/** runKafka's options and the flags that set them (option errors are reported as usage errors on the flag). */
const KAFKA_FLAGS = {
  brokers: 'brokers',
  inputTopic: 'input-topic',
  outputTopic: 'output-topic',
  group: 'group',
  stateDir: 'state-dir',
  clientId: 'client-id',
  checkpointIntervalMs: 'checkpoint-interval',
  sessionTimeoutMs: 'session-timeout',
  maxWaitTimeMs: 'max-wait',
  port: 'port',
  workers: 'workers',
  capacity: 'capacity',
  horizon: 'horizon',
  'mqtt.url': 'mqtt',
  'mqtt.publish': 'mqtt-publish',
  'mqtt.clientId': 'mqtt-client-id',
};

export const kafkaCommand: CliCommand = {
  name: 'kafka',
  summary: 'forecast a Kafka topic into another as a consumer group, with per-partition state checkpoints',
  help: `Usage: gru-stream kafka --brokers HOST:PORT,... --input-topic T --output-topic T --state-dir DIR
                        [--group ID] [--model FILE] [OPTIONS]

Joins consumer group --group; each instance forecasts the input partitions assigned to it.
Input record: key = series id, value = a sample as predict reads it ({"values":[...]}, {"value":x},
optional "t" and "series"; "series" overrides the key) or a bare number for one-column models.
Output record: key = series id, value = predict's forecast record plus "partition" and "offset"
of the input record it answers (the deduplication key: output is at least once).
Each partition's series states and next offset are checkpointed together in --state-dir, which
every instance of the group must share; a partition's new owner resumes from its checkpoint.

Options:
  --brokers LIST            bootstrap brokers, comma-separated host:port
  --input-topic T           topic to read samples from
  --output-topic T          topic to write forecasts to
  --group ID                consumer group id (default gru-stream)
  --state-dir DIR           checkpoint directory shared by the group's instances
  --model FILE              safetensors or ONNX model (default: the bundled ${BUNDLED_MODEL})
${MODEL_FLAGS_HELP}
  --checkpoint-interval MS  checkpoint a partition at most this often while busy (default 10000);
                            always on rebalance and shutdown. Smaller = fewer duplicates after a crash
  --client-id ID            Kafka client id (default gru-stream-HOST-PID)
  --session-timeout MS      group session timeout (default 30000); failover takes about twice this
  --max-wait MS             longest a fetch waits for data (default 500)
  --exactly-once            forecasts and consumed offsets in one Kafka transaction (needs a broker
                            with transactions; consumers of the output should read_committed)
  --port N                  serve GET /healthz and GET /metrics on this port (0 = any free port)
  --host HOST               address for --port (default 127.0.0.1)
  --workers N, --capacity N, --horizon K   as for predict (per partition)
  --mqtt URL --mqtt-publish TOPIC   also publish each forecast to an MQTT broker with QoS 1, e.g.
                            'forecasts/{series}' (samples still come from --input-topic only)
  --mqtt-client-id ID       MQTT session id (default: the Kafka client id); --mqtt-username U, and
                            $GRU_STREAM_MQTT_PASSWORD / _CA / _CERT / _KEY as for serve

Environment (secrets stay out of the command line):
  GRU_STREAM_KAFKA_SASL_MECHANISM   plain | scram-sha-256 | scram-sha-512
  GRU_STREAM_KAFKA_SASL_USERNAME, GRU_STREAM_KAFKA_SASL_PASSWORD
  GRU_STREAM_KAFKA_SSL=1            TLS with the system CAs
  GRU_STREAM_KAFKA_SSL_CA, GRU_STREAM_KAFKA_SSL_CERT, GRU_STREAM_KAFKA_SSL_KEY   PEM files

Runs until SIGINT or SIGTERM, then checkpoints every partition, leaves the group and exits 0.
Exits 1 when a partition's checkpoint was written for another model or none is intact.
See docs/kafka.md for the guarantees, the metrics and what was tested on which broker.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('kafka', argv, {
      brokers: { type: 'string' },
      'input-topic': { type: 'string' },
      'output-topic': { type: 'string' },
      group: { type: 'string' },
      'state-dir': { type: 'string' },
      ...MODEL_FLAGS,
      'checkpoint-interval': { type: 'string' },
      'client-id': { type: 'string' },
      'session-timeout': { type: 'string' },
      'max-wait': { type: 'string' },
      'exactly-once': { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      capacity: { type: 'string' },
      horizon: { type: 'string' },
      ...MQTT_ARGS,
    });
    if (positionals.length > 0) throw usageError(`gru-stream kafka: unexpected argument "${positionals[0]}"`);
    for (const flag of ['mqtt-topic', 'mqtt-series-level']) {
      if (values[flag] !== undefined) throw usageError(`gru-stream kafka: --${flag} is serve's; kafka reads samples from --input-topic and only publishes forecasts to MQTT (--mqtt-publish)`);
    }
    const str = (k: string): string | undefined => values[k] as string | undefined;
    for (const required of ['brokers', 'input-topic', 'output-topic', 'state-dir']) {
      if (!str(required)) throw usageError(`gru-stream kafka: --${required} is required (see gru-stream kafka --help)`);
    }
    const brokers = str('brokers')!.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
    const bad = brokers.find((b) => !/^[^\s:]+:\d+$/.test(b));
    if (bad !== undefined || brokers.length === 0) throw usageError(`--brokers must be host:port,... (got "${str('brokers')}")`);
    const options = {
      brokers,
      inputTopic: str('input-topic')!,
      outputTopic: str('output-topic')!,
      group: str('group'),
      stateDir: str('state-dir')!,
      model: await loadModelArg(str('model') ?? bundledModelPath(), values.meta),
      checkpointIntervalMs: intFlag('checkpoint-interval', str('checkpoint-interval')),
      clientId: str('client-id'),
      sessionTimeoutMs: intFlag('session-timeout', str('session-timeout')),
      maxWaitTimeMs: intFlag('max-wait', str('max-wait')),
      exactlyOnce: values['exactly-once'] === true,
      ...kafkaSecurityFromEnv(io.env),
      port: intFlag('port', str('port')),
      host: str('host'),
      predictor: {
        workers: intFlag('workers', str('workers')),
        capacity: intFlag('capacity', str('capacity')),
        horizon: intFlag('horizon', str('horizon')),
      },
      log: (line: string) => io.stderr.write(`${line}\n`),
      mqtt: mqttOptionsFromArgs(values, io.env),
    };
    const handle = await flagErrors(KAFKA_FLAGS, () => runKafka(options));
    io.stdout.write(`gru-stream: kafka: ${brokers.join(',')} ${str('input-topic')} -> ${str('output-topic')} as group ${str('group') ?? 'gru-stream'}${handle.url ? `; health and metrics at ${handle.url}` : ''}\n`);
    try {
      const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM'), handle.failed]);
      io.stderr.write(`gru-stream: ${String(signal[0] ?? 'signal')} received, checkpointing and leaving the group\n`);
    } finally {
      // On failure too: the healthy partitions are checkpointed and the group is left cleanly.
      await handle.close();
    }
    return 0;
  },
};
