import type { GruStreamError } from '../errors.js';
import { startMqttBridge } from '../mqtt/mqtt-bridge.js';
import { startInput } from './input.js';
import type { InputProgress } from './input-progress.js';
import type { SampleSource } from './metrics.js';
import type { ResolvedServeOptions } from './options.js';
import type { ServePipeline } from './pipeline.js';
import { startReplay } from './replay.js';

/**
 * The server's own sample sources, `--input`, `--replay` and `--mqtt` (the fourth, /ingest, is a
 * WebSocket endpoint). Each writes through the pipeline's gate; its end or failure is reported on the
 * handle's `events` ('input-end', 'replay-end') or the log, never by stopping the server.
 */
export interface Sources {
  /** Stops every source and waits until none writes any more. */
  stop(): Promise<void>;
}

/** `progress`: the --input file's position under --state-dir (where it resumes, what is applied). */
export function startSources(opts: ResolvedServeOptions, pipeline: ServePipeline, progress?: InputProgress): Sources {
  const { events, gate, metrics } = pipeline;
  const { columns } = pipeline.model.config;
  const stops: Array<() => Promise<void>> = [];
  const sink = (source: SampleSource) => ({
    gate,
    onSample: () => metrics.samplesIn.inc({ source }),
    onInvalid: (err: GruStreamError) => pipeline.reportInvalid(err, source),
  });
  const settle = (done: Promise<void>, endEvent: string, flag: string): void => {
    done.then(() => events.emit(endEvent), (err: Error) => opts.log(`gru-stream: ${flag} failed: ${err.message}`));
  };
  if (opts.input !== undefined) {
    const input = startInput({ ...sink('input'), input: opts.input, format: opts.format, columns, series: opts.series, progress });
    settle(input.done, 'input-end', '--input');
    stops.push(input.stop);
  }
  if (opts.replay !== undefined) {
    const replay = startReplay({
      ...sink('replay'),
      path: opts.replay,
      rate: opts.rate,
      loop: opts.loop,
      columns,
      series: opts.series,
      resetSeries: (series) => pipeline.resetSeries(series),
    });
    settle(replay.done, 'replay-end', '--replay');
    stops.push(replay.stop);
  }
  if (opts.mqtt !== undefined) {
    const bridge = startMqttBridge(opts.mqtt, {
      ingest: { ...sink('mqtt'), check: (raw) => pipeline.check(raw) },
      forecasts: events,
      events,
      registry: metrics.registry,
      log: opts.log,
    });
    stops.push(() => bridge.stop());
  }
  return { stop: async () => void (await Promise.all(stops.map((stop) => stop()))) };
}
