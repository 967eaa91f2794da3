import { Transform } from 'node:stream';
import { ErrorCodes, type GruStreamError, InputError, OptionError, WorkerError, isGruStreamError } from '../errors.js';
import { arenaLayout } from '../kernel/layout.js';
import { type IntervalFields, IntervalCalibrator } from '../interval/interval-calibrator.js';
import type { GruModel } from '../model/model.js';
import { Normaliser } from '../model/normaliser.js';
import { ShardRunner } from '../pool/shard-runner.js';
import { SeriesState } from '../state/series-state.js';
import { type StateSnapshot, exportSnapshot, importSnapshot } from '../state/snapshot.js';
import { Batch, type BatchEntry } from './batch.js';
import { DirectStepper, type RowSink, type StartedRows } from './direct-stepper.js';
import { Marker } from './marker.js';
import { type PredictorOptions, type ResolvedOptions, resolvePredictorOptions } from './predictor-options.js';
import { type CheckedSample, checkSample } from './sample.js';
import { MAX_SERIES_ID_LENGTH } from '../state/series-id.js';

interface Waiting {
  sample: CheckedSample | null;
  /** A Marker passing through (sample and error null). */
  marker?: Marker;
  error: GruStreamError | null;
  /** onInvalid 'fail': this rejection ends the stream; its write callback is never called. */
  fatal: boolean;
  callback: () => void;
}

/** One output record per accepted sample, in input order. Interval fields only with options.interval. */
export interface Forecast extends IntervalFields {
  series: string;
  t: number | string;
  /** Next-step forecast in the model's columns order and original units; null when none can be made yet. */
  forecast: number[] | null;
  /** The sample's own values (original units). */
  actual: number[];
  /** With horizon > 1: [horizon][columns], path[0] equal to forecast. */
  path?: number[][] | null;
  /** The sample's seq, when it had one. */
  seq?: number;
}

/** What onInvalid: 'output' pushes in a rejected sample's place. */
export interface ErrorRecord {
  error: ReturnType<GruStreamError['toJSON']>;
  series?: string;
  line?: number;
}

/** A rejection's error record: the error, then its series and line when it names them. */
export function errorRecordOf(err: GruStreamError): ErrorRecord {
  const { series, line } = err.details as { series?: string; line?: number };
  return { error: err.toJSON(), ...(series ? { series } : {}), ...(line !== undefined ? { line } : {}) };
}

export interface PredictorStats {
  samplesIn: number;
  forecastsOut: number;
  rejected: number;
  /** Samples dropped because their `seq` was not above the last applied one of their series. */
  duplicates: number;
  evicted: number;
  liveSeries: number;
  workerRestarts: number;
}

/**
 * A Transform (object mode) from samples to forecasts that keeps one GRU state per series id.
 *
 *   write(sample) ─► validate ─► slot (LRU) ─► normalise ─► [filling batch] ──turn ends──► [stepping batch] ─► push forecasts
 *                                                                    ▲ at most one of each; the next
 *                                                                    └ fills while the last steps
 * Per-series order: a series appears at most once per batch and batches step one after another.
 * Global order: records are pushed batch by batch, entry by entry, so outputs follow inputs.
 * Backpressure: a write's callback is held while the filling batch is full behind a stepping one,
 * or while the readable side is above its high-water mark; so write() returns false and 'drain'
 * follows, and memory stays bounded by two batches plus the buffers.
 *
 * Rejections travel in order: a parser in `inline` mode writes its InputError in the bad line's
 * place, and checkSample's rejections are placed like samples, so with onInvalid 'output' each
 * gets its error record in position, and with 'fail' every record before it is pushed before the
 * stream fails ('fatal' event, then destroy once those records have been read).
 */
export class Predictor extends Transform {
  readonly model: GruModel;
  readonly options: ResolvedOptions;
  private readonly state: SeriesState;
  private readonly normaliser: Normaliser;
  private readonly columns: number;
  private readonly runner: Promise<ShardRunner>;
  /** Per-series prediction intervals (options.interval), or null. */
  private readonly calibrator: IntervalCalibrator | null;
  /** Per slot: seq of the last batch that holds it (0 = none), to spot a repeat within a batch. */
  private readonly batchOf: Float64Array;
  private filling: Batch;
  private spare: Batch;
  private stepping: Batch | null = null;
  private nextSeq = 1;
  private flushScheduled = false;
  /** A sample (or, with onInvalid 'output', a rejection) not placed yet, with its write callback. */
  private waiting: Waiting | null = null;
  /** A write callback held back for readable-side backpressure. */
  private heldCallback: (() => void) | null = null;
  private idleWaiters: Array<() => void> = [];
  private readonly counters = { samplesIn: 0, forecastsOut: 0, rejected: 0, duplicates: 0, evicted: 0 };
  /** Set once onInvalid 'fail' stopped the stream. */
  private fatal: GruStreamError | null = null;
  /** The runner once it has started (stats() reads its worker-restart count). */
  private started: ShardRunner | null = null;
  /** writeBatch() and the NDJSON row path: rows without sample objects. */
  private readonly direct: DirectStepper;
  /** Decoded levels of one row's forecast path (writeBatch with horizon > 1). */
  private readonly pathLevels: Float64Array;

  constructor(model: GruModel, options: PredictorOptions = {}) {
    const resolved = resolvePredictorOptions(model, options);
    super({ objectMode: true, highWaterMark: resolved.highWaterMark });
    this.model = model;
    this.options = resolved;
    this.columns = model.config.inputSize;
    this.normaliser = new Normaliser(model.config);
    const threads = resolved.workers + 1;
    const layout = arenaLayout(model.shape, resolved.capacity, resolved.maxBatch, threads);
    this.state = new SeriesState(layout, this.columns);
    const levels = resolved.intervalLevels;
    this.calibrator = levels ? new IntervalCalibrator(model, levels, resolved.horizon, resolved.capacity) : null;
    if (this.calibrator) this.state.onClear = this.calibrator.clear.bind(this.calibrator);
    this.batchOf = new Float64Array(resolved.capacity);
    const perRow = resolved.horizon * model.config.outputSize;
    this.filling = new Batch(resolved.maxBatch, this.columns, perRow);
    this.spare = new Batch(resolved.maxBatch, this.columns, perRow);
    this.filling.reuse(this.nextSeq++);
    this.runner = ShardRunner.create({
      weights: model.weights,
      arena: this.state.arena,
      arenaLayout: layout,
      workers: resolved.workers,
      mainThread: false,
      horizon: resolved.horizon,
      kernel: resolved.kernel,
      injectFault: resolved.injectWorkerFault,
    });
    // Surface a pool that cannot start as a stream error, not an unhandled rejection.
    this.runner.then((runner) => (this.started = runner), (err) => this.destroy(err));
    this.direct = new DirectStepper({
      state: this.state,
      normaliser: this.normaliser,
      runner: this.runner,
      batchOf: this.batchOf,
      nextSeq: () => this.nextSeq++,
      maxBatch: resolved.maxBatch,
      horizon: resolved.horizon,
      outputSize: model.config.outputSize,
      onBatch: (size, latencyMs) => this.emit('batch', { size, latencyMs }),
    });
    this.pathLevels = new Float64Array(resolved.horizon * model.config.outputSize);
  }

  /**
   * A series handle: an integer naming `series` that writeBatch() takes instead of the id, so a hot
   * loop skips the id lookup (a cold string's hash-table probe at a million live series costs more
   * than the step). Registers the series now (a zero state, as its first sample would). A handle
   * stays valid until its series is evicted or reset; after that writeBatch refuses it with
   * ERR_SERIES_HANDLE rather than step another series.
   */
  handle(series: string): number {
    this.checkId(series, null);
    const slot = this.state.acquire(series, this.onEvict);
    return this.state.slots.generationOf(slot) * this.options.capacity + slot;
  }

  /**
   * The binary API: one sample per row, `series[i]` (ids, or handles from handle()) with the
   * model's columns at values[i*C .. i*C+C). Steps them after every earlier write, in order (a
   * series may appear more than once), and resolves with the forecasts in original units:
   * [rows][horizon][outputSize] floats, NaN where a series has no forecast yet. The same state,
   * arithmetic and events as writing the rows as samples; nothing changes if any row is invalid
   * (the error names the row). Do not write samples to the stream while a writeBatch is pending.
   */
  async writeBatch(series: readonly string[] | ArrayLike<number>, values: Float32Array, out?: Float32Array): Promise<Float32Array> {
    const n = series.length;
    const C = this.columns;
    const O = this.model.config.outputSize;
    const H = this.options.horizon;
    // Rows here never become records, so they could not be scored or given bounds.
    if (this.calibrator) throw new OptionError('writeBatch returns point forecasts only; it is not available on a predictor made with options.interval', { option: 'interval' });
    if (values.length !== n * C) throw new InputError(ErrorCodes.ERR_INPUT_WIDTH, `writeBatch: ${n} rows of ${C} values (${this.model.config.columns.join(', ')}) need ${n * C} floats, got ${values.length}`);
    const result = out ?? new Float32Array(n * H * O);
    if (result.length < n * H * O) throw new OptionError(`writeBatch: out holds ${result.length} floats, ${n * H * O} needed`, { option: 'out' });
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const why = Number.isFinite(v) ? this.normaliser.rejectValue(v) : 'is not a finite number';
      if (why) throw new InputError(ErrorCodes.ERR_NON_FINITE, `writeBatch: row ${Math.floor(i / C)}: ${this.model.config.columns[i % C]} ${v} ${why.replace(`${v} `, '')}`, { row: Math.floor(i / C) });
    }
    await this.whenIdle();
    const byHandle = n > 0 && typeof series[0] === 'number';
    for (let i = 0; i < n; i++) {
      if (byHandle) this.slotOfHandle(series[i] as number, i);
      else this.checkId(series[i] as string, i);
    }
    const ids = series as readonly string[];
    const slotOf = byHandle ? (i: number) => this.slotOfHandle(series[i] as number, i, true) : (i: number) => this.state.acquire(ids[i], this.onEvict);
    const levels = this.pathLevels;
    const sink: RowSink = (i, row, _t, bout) => {
      const dst = i * H * O;
      if (row < 0) {
        result.fill(Number.NaN, dst, dst + H * O);
        return;
      }
      for (let k = 0; k < H; k++) {
        for (let o = 0; o < O; o++) {
          // Each step of a path is decoded from the previous step's level, as decodePath does.
          const level = k === 0 ? values[i * C + o] : levels[(k - 1) * O + o];
          levels[k * O + o] = this.normaliser.decodeValue(bout[(row * H + k) * O + o], o, level);
          result[dst + k * O + o] = levels[k * O + o];
        }
      }
    };
    this.counters.samplesIn += n;
    try {
      await this.direct.run(n, slotOf, values, sink);
    } catch (err) {
      const fault = isGruStreamError(err) ? err : new WorkerError(ErrorCodes.ERR_WORKER, `stepping a batch failed: ${(err as Error).message}`);
      this.destroy(fault);
      throw fault;
    }
    this.counters.forecastsOut += n;
    return result;
  }

  /** @internal The NDJSON path's entry: rows already validated; see DirectStepper.run. */
  async stepRows(count: number, slotOf: (i: number) => number, values: ArrayLike<number>, sink: RowSink): Promise<void> {
    await this.whenIdle();
    await this.direct.run(count, slotOf, values, sink);
  }

  /** @internal stepRows in two halves, so the NDJSON path can pipeline its rounds: see DirectStepper.start. */
  async startRows(count: number, slotOf: (i: number) => number, values: ArrayLike<number>, sink: RowSink): Promise<StartedRows> {
    await this.objectPathIdle();
    return this.direct.start(count, slotOf, values, sink);
  }

  /** @internal The second half of startRows. */
  finishRows(rows: StartedRows): Promise<void> {
    return this.direct.finish(rows);
  }

  /** @internal The NDJSON path decodes and validates with the predictor's own normaliser. */
  normaliserForRows(): Normaliser {
    return this.normaliser;
  }

  /**
   * @internal The NDJSON path's admission of a validated sample: its slot (acquired), or -1 when
   * its seq marks it a duplicate (counted and reported, as the object path does).
   */
  admitRow(series: string, seq: number | undefined): number {
    if (seq !== undefined && this.isDuplicate(series, seq)) return -1;
    const slot = this.state.acquire(series, this.onEvict);
    if (seq !== undefined) this.state.lastSeq[slot] = seq;
    return slot;
  }

  /** A sample whose seq is not above its series' last applied one: counted and reported. */
  private isDuplicate(series: string, seq: number): boolean {
    const slot = this.state.slots.get(series);
    if (slot === undefined || this.state.lastSeq[slot] < seq) return false;
    this.counters.duplicates++;
    this.emit('duplicate', { series, seq });
    return true;
  }

  /** @internal Counts what the NDJSON path handled as stats() counts samples (duplicates are counted by admitRow). */
  countDirect(samplesIn: number, forecastsOut: number, rejected: number): void {
    this.counters.samplesIn += samplesIn;
    this.counters.forecastsOut += forecastsOut;
    this.counters.rejected += rejected;
  }

  private checkId(series: unknown, row: number | null): void {
    const where = row === null ? '' : `writeBatch: row ${row}: `;
    const details = row === null ? {} : { row };
    if (typeof series !== 'string' || series.length === 0 || series.length > MAX_SERIES_ID_LENGTH) {
      throw new InputError(ErrorCodes.ERR_SERIES_ID, `${where}a series id must be a non-empty string of at most ${MAX_SERIES_ID_LENGTH} characters`, details);
    }
    if (this.options.knownSeries && !this.options.knownSeries.has(series)) throw new InputError(ErrorCodes.ERR_UNKNOWN_SERIES, `${where}unknown series "${series}"`, { ...details, series });
  }

  /**
   * The slot a handle names, checked against the slot's generation (odd while a series holds the
   * slot, see SeriesSlots.generationOf); `touch` marks it recently used.
   */
  private slotOfHandle(h: number, row: number, touch = false): number {
    const capacity = this.options.capacity;
    const slot = h % capacity;
    const generation = (h - slot) / capacity;
    if (!Number.isSafeInteger(h) || h < 0 || generation % 2 !== 1 || this.state.slots.generationOf(slot) !== generation) {
      throw new InputError(ErrorCodes.ERR_SERIES_HANDLE, `writeBatch: row ${row}: ${String(h)} is not a live series handle (never issued, or its series was evicted or reset)`, { row });
    }
    if (touch) this.state.slots.touchSlot(slot);
    return slot;
  }

  stats(): PredictorStats {
    return { ...this.counters, liveSeries: this.state.slots.size, workerRestarts: this.started?.crashes ?? 0 };
  }

  override _transform(raw: unknown, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (raw instanceof Marker) {
      this.waiting = { sample: null, error: null, fatal: false, marker: raw, callback };
      this.place();
      return;
    }
    this.counters.samplesIn++;
    // A parser's inline rejection (an unparseable line) takes the same road as a bad sample.
    if (isGruStreamError(raw)) {
      this.reject(raw, callback);
      return;
    }
    let sample: CheckedSample;
    try {
      sample = checkSample(raw, this.model.config.columns, this.normaliser, this.options.knownSeries);
    } catch (err) {
      this.reject(err as GruStreamError, callback);
      return;
    }
    // lastSeq is raised when a sample is admitted, and the next _transform only runs after that
    // sample's callback, which place() calls after admitting it: so this sees every earlier seq.
    if (sample.seq !== undefined && this.isDuplicate(sample.series, sample.seq)) {
      callback();
      return;
    }
    this.waiting = { sample, error: null, fatal: false, callback };
    this.place();
  }

  private reject(err: GruStreamError, callback: (err?: Error | null) => void): void {
    this.counters.rejected++;
    const fatal = this.options.onInvalid === 'fail';
    if (!fatal) this.emit('invalid', err);
    if (fatal || this.options.onInvalid === 'output') {
      this.waiting = { sample: null, error: err, fatal, callback };
      this.place();
      return;
    }
    callback();
  }

  /** Put the waiting sample into the filling batch, dispatching first if it cannot go there. */
  private place(): void {
    const w = this.waiting;
    if (!w) return;
    const batch = this.filling;
    const existing = w.sample ? this.state.slots.get(w.sample.series) : undefined;
    const repeat = existing !== undefined && this.batchOf[existing] === batch.seq;
    if (batch.entries.length >= this.options.maxBatch || repeat) {
      if (this.stepping) return; // place() runs again when the stepping batch completes
      this.dispatch();
      return this.place();
    }
    this.waiting = null;
    if (w.sample) this.admit(batch, w.sample);
    else if (w.marker) batch.entries.push({ series: '', t: '', actual: [], line: undefined, slot: -1, row: -1, marker: w.marker.token });
    else batch.entries.push({ series: (w.error!.details.series as string) ?? '', t: '', actual: [], line: w.error!.details.line as number | undefined, slot: -1, row: -1, error: w.error!, fatal: w.fatal });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushTurn);
    }
    // A fatal rejection keeps its callback: nothing more is written after it.
    if (w.fatal) return;
    if (this.readableLength >= this.readableHighWaterMark) this.heldCallback = w.callback;
    else w.callback();
  }

  /** Add a validated sample to the batch: find or make its slot, normalise, assign a kernel row. */
  private admit(batch: Batch, s: CheckedSample): void {
    const st = this.state;
    const slot = st.acquire(s.series, this.onEvict);
    this.batchOf[slot] = batch.seq;
    if (s.seq !== undefined) st.lastSeq[slot] = s.seq;
    const C = this.columns;
    const t = s.t ?? st.steps[slot];
    st.steps[slot]++;
    const row = batch.rows;
    const stepped = this.normaliser.encode(s.values, st.previous, slot * C, st.hasPrevious[slot] === 1, batch.inputs, row * C);
    if (this.normaliser.usesPrevious) {
      for (let c = 0; c < C; c++) st.previous[slot * C + c] = s.values[c];
      st.hasPrevious[slot] = 1;
    }
    if (stepped) {
      batch.slots[row] = slot;
      batch.rows++;
    }
    batch.entries.push({ series: s.series, t, actual: s.values, line: s.line, slot, row: stepped ? row : -1, seq: s.seq });
  }

  private readonly onEvict = (series: string): void => {
    this.counters.evicted++;
    this.emit('evict', { series });
  };

  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    if (!this.stepping && this.filling.entries.length > 0) this.dispatch();
  };

  /** Start stepping the filling batch; a fresh one starts filling. */
  private dispatch(): void {
    const batch = this.filling;
    this.stepping = batch;
    this.filling = this.spare;
    this.filling.reuse(this.nextSeq++);
    const t0 = performance.now();
    this.runner
      .then(async (runner) => {
        if (batch.rows > 0) await runner.run(batch.rows, batch.slots, batch.inputs, batch.out);
      })
      .then(() => this.complete(batch, performance.now() - t0), (err) => this.destroy(isGruStreamError(err) ? err : new WorkerError(ErrorCodes.ERR_WORKER, `stepping a batch failed: ${(err as Error).message}`)));
  }

  private complete(batch: Batch, latencyMs: number): void {
    if (this.destroyed) return;
    const { horizon } = this.options;
    const O = this.model.config.outputSize;
    let fatal: GruStreamError | null = null;
    for (const e of batch.entries) {
      if (e.fatal) {
        fatal = e.error!;
        break;
      }
      if (e.marker !== undefined) {
        this.emit('marker', e.marker);
        continue;
      }
      const record = this.record(e, batch, horizon, O);
      if (this.calibrator && !e.error) this.calibrator.annotate(record as Forecast, e.slot);
      this.push(record);
    }
    this.emit('batch', { size: batch.rows, latencyMs });
    this.spare = batch;
    this.stepping = null;
    this.place();
    // What filled while this batch stepped goes next, without waiting for the turn to end.
    if (!this.stepping && this.filling.entries.length > 0) this.dispatch();
    if (!this.stepping && this.filling.entries.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (fatal) this.fail(fatal);
  }

  /**
   * onInvalid 'fail': every record before the bad sample has been pushed. 'fatal' lets a consumer
   * that reads by hand take them at once; the stream is destroyed with the error only when its
   * buffer is empty, because destroy() discards whatever was not read yet.
   */
  private fail(err: GruStreamError): void {
    this.fatal = err;
    this.emit('fatal', err);
    const destroyWhenRead = (): void => {
      if (this.destroyed) return;
      if (this.readableLength === 0) this.destroy(err);
      else setTimeout(destroyWhenRead, 5);
    };
    destroyWhenRead();
  }

  /** The rejection that stopped the stream under onInvalid 'fail', if any. */
  get failure(): GruStreamError | null {
    return this.fatal;
  }

  private record(e: BatchEntry, batch: Batch, horizon: number, O: number): Forecast | ErrorRecord {
    if (e.error) return errorRecordOf(e.error);
    this.counters.forecastsOut++;
    const r: Forecast = { series: e.series, t: e.t, forecast: null, actual: e.actual };
    if (e.seq !== undefined) r.seq = e.seq;
    if (e.row < 0) {
      if (horizon > 1) r.path = null;
      return r;
    }
    const at = e.row * horizon * O;
    if (horizon === 1) {
      r.forecast = this.normaliser.decodeRow(batch.out, at, O, e.actual);
      return r;
    }
    const path = this.normaliser.decodePath(batch.out, at, horizon, O, e.actual);
    r.forecast = path[0];
    r.path = path;
    return r;
  }

  override _read(size: number): void {
    // The consumer asks for more: release the held write. Readable calls _read once per demand and
    // only again after a push, so nothing here may wait for a later call. Order matters: Node's
    // Transform may park the released callback (its own kCallback) when the buffer is still full,
    // and super._read() is what un-parks it.
    const held = this.heldCallback;
    this.heldCallback = null;
    held?.();
    super._read(size);
  }

  override _flush(callback: (err?: Error | null) => void): void {
    this.whenIdle().then(() => this.runner).then((r) => r.close()).then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.runner.then((r) => r.close(), () => undefined).then(() => callback(err));
  }

  /**
   * Resolves once every sample placed so far has been stepped and its record pushed. Writes still
   * buffered on the writable side (held by backpressure) are not included: a caller that needs a
   * cut reads the records out and waits again until writableLength is 0.
   */
  whenIdle(): Promise<void> {
    if (this.direct.busy) return this.direct.idle().then(() => this.whenIdle());
    return this.objectPathIdle();
  }

  /** whenIdle() for the object path alone (the NDJSON path's pipelined batch may stay on the workers). */
  private objectPathIdle(): Promise<void> {
    if (!this.stepping && this.filling.entries.length > 0) this.dispatch();
    if (!this.stepping && this.filling.entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Forget a series' state (its next sample starts from zero). Applied after all earlier writes. */
  async reset(series: string): Promise<boolean> {
    await this.whenIdle();
    return this.state.slots.remove(series) !== undefined;
  }

  /** Every series' state, bit-exact, after all earlier writes have been stepped. JSON-serialisable. */
  async exportState(): Promise<StateSnapshot> {
    await this.whenIdle();
    return exportSnapshot(this.state, this.model, this.calibrator);
  }

  /** Restore series states from exportState() (of a predictor on the same model); replaces same-id series. */
  async importState(snapshot: StateSnapshot): Promise<void> {
    await this.whenIdle();
    importSnapshot(this.state, this.model, snapshot, this.onEvict, this.calibrator);
  }
}

export function createPredictor(model: GruModel, options: PredictorOptions = {}): Predictor {
  return new Predictor(model, options);
}
