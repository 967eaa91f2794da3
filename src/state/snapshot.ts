import { ErrorCodes, StateError } from '../errors.js';
import type { IntervalCalibrator, IntervalSignature } from '../interval/interval-calibrator.js';
import type { GruModel } from '../model/model.js';
import { isSeriesId } from './series-id.js';
import type { SeriesState } from './series-state.js';

/**
 * A JSON-safe copy of every series' state. Hidden states travel as base64 of their float32 bytes
 * (bit-identical round trip); log-return levels are float64 JSON numbers (also exact).
 * Series are listed least recently used first, so an import keeps the eviction order.
 * With prediction intervals, `intervals` names the calibration setup and each series carries its
 * calibration state (base64 of float64 bytes, also bit-identical).
 */
export interface StateSnapshot {
  format: 'gru-stream-state';
  version: 1;
  model: { inputSize: number; hiddenSize: number; numLayers: number; variant: string; columns: string[] };
  intervals?: IntervalSignature;
  /** `seq`: the highest sequence number applied (absent or null: none); duplicates at or below it are dropped. */
  series: Array<{ id: string; steps: number; state: string; previous: number[] | null; intervals?: string; seq?: number | null }>;
}

function modelKey(model: GruModel): StateSnapshot['model'] {
  const c = model.config;
  return { inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, variant: c.variant, columns: [...c.columns] };
}

export function exportSnapshot(state: SeriesState, model: GruModel, calibrator: IntervalCalibrator | null = null): StateSnapshot {
  const floats = model.config.numLayers * model.config.hiddenSize;
  const C = state.columns;
  const series: StateSnapshot['series'] = [];
  for (const [id, slot] of state.slots.entries()) {
    const h = state.stateOf(slot).subarray(0, floats);
    series.push({
      id,
      steps: state.steps[slot],
      state: Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('base64'),
      previous: state.hasPrevious[slot] ? Array.from(state.previous.subarray(slot * C, slot * C + C)) : null,
      ...(calibrator ? { intervals: calibrator.exportSlot(slot) } : {}),
      seq: state.lastSeq[slot] >= 0 ? state.lastSeq[slot] : null,
    });
  }
  return { format: 'gru-stream-state', version: 1, model: modelKey(model), ...(calibrator ? { intervals: calibrator.signature } : {}), series };
}

function stateError(message: string): StateError {
  return new StateError(ErrorCodes.ERR_STATE_FORMAT, `cannot import state: ${message}`);
}

/**
 * Validate the whole snapshot first, then apply it, so a bad snapshot changes nothing. Interval
 * state is taken when this predictor calibrates intervals the same way (levels, horizon, space);
 * a snapshot without it starts those series' calibration afresh, one for another setup is refused.
 */
export function importSnapshot(state: SeriesState, model: GruModel, snapshot: StateSnapshot, onEvict: (series: string) => void, calibrator: IntervalCalibrator | null = null): void {
  if (typeof snapshot !== 'object' || snapshot === null || snapshot.format !== 'gru-stream-state' || snapshot.version !== 1 || !Array.isArray(snapshot.series)) {
    throw stateError('not a gru-stream-state version 1 snapshot');
  }
  const want = JSON.stringify(modelKey(model));
  if (JSON.stringify(snapshot.model) !== want) throw stateError(`snapshot is for model ${JSON.stringify(snapshot.model)}, this predictor runs ${want}`);
  const withIntervals = calibrator !== null && snapshot.intervals !== undefined;
  if (withIntervals && JSON.stringify(snapshot.intervals) !== JSON.stringify(calibrator.signature)) {
    throw stateError(`snapshot intervals ${JSON.stringify(snapshot.intervals)} differ from this predictor's ${JSON.stringify(calibrator.signature)}`);
  }
  const floats = model.config.numLayers * model.config.hiddenSize;
  const C = state.columns;
  const decoded = snapshot.series.map((s, i) => {
    if (!isSeriesId(s?.id)) throw stateError(`series[${i}] has no valid id`);
    if (!Number.isSafeInteger(s.steps) || s.steps < 0) throw stateError(`series[${i}] ("${s.id}") has invalid steps`);
    const bytes = typeof s.state === 'string' ? Buffer.from(s.state, 'base64') : Buffer.alloc(0);
    if (bytes.length !== floats * 4) throw stateError(`series[${i}] ("${s.id}") state has ${bytes.length} bytes, expected ${floats * 4}`);
    const h = new Float32Array(floats);
    new Uint8Array(h.buffer).set(bytes);
    if (h.some((v) => !Number.isFinite(v))) throw stateError(`series[${i}] ("${s.id}") state has a non-finite value`);
    if (s.previous !== null && (!Array.isArray(s.previous) || s.previous.length !== C || s.previous.some((v) => typeof v !== 'number' || !Number.isFinite(v)))) {
      throw stateError(`series[${i}] ("${s.id}") previous must be null or ${C} finite numbers`);
    }
    const intervals = withIntervals ? calibrator.decode(s.intervals, `series[${i}] ("${s.id}")`) : null;
    if (s.seq !== undefined && s.seq !== null && !(Number.isSafeInteger(s.seq) && s.seq >= 0)) throw stateError(`series[${i}] ("${s.id}") seq must be null or a non-negative integer`);
    return { id: s.id, steps: s.steps, h, previous: s.previous, intervals, seq: s.seq ?? -1 };
  });
  if (new Set(decoded.map((d) => d.id)).size !== decoded.length) throw stateError('duplicate series ids');
  if (decoded.length > state.slots.capacity) throw stateError(`${decoded.length} series exceed the predictor's capacity ${state.slots.capacity}`);
  for (const d of decoded) {
    const slot = state.acquire(d.id, onEvict);
    state.clear(slot);
    state.stateOf(slot).set(d.h);
    state.steps[slot] = d.steps;
    state.lastSeq[slot] = d.seq;
    if (d.previous) {
      state.previous.set(d.previous, slot * C);
      state.hasPrevious[slot] = 1;
    }
    if (d.intervals) calibrator!.importSlot(slot, d.intervals);
  }
}
