import type { ArenaLayout } from '../kernel/layout.js';
import { sharedFloats, slotOffset } from '../kernel/layout.js';
import { SeriesSlots } from './series-slots.js';

/**
 * Everything the predictor remembers per series: the GRU hidden state (in the shared arena, where
 * kernels and workers step it) plus small main-thread bookkeeping kept in slot-indexed typed arrays:
 * samples seen (the default `t`), the last applied `seq` and, for log-return transforms, the
 * previous raw values.
 */
export class SeriesState {
  readonly layout: ArenaLayout;
  readonly arena: Float32Array;
  readonly slots: SeriesSlots;
  readonly columns: number;
  /** Samples accepted per slot. */
  readonly steps: Float64Array;
  /** Last raw values per slot, [capacity][columns]; valid where hasPrevious is 1. */
  readonly previous: Float64Array;
  readonly hasPrevious: Uint8Array;
  /** Called whenever a slot is cleared, so per-series state kept elsewhere (intervals) starts over too. */
  onClear: ((slot: number) => void) | null = null;
  /** Highest `seq` applied per slot; -1 when the series has sent none. */
  readonly lastSeq: Float64Array;

  constructor(layout: ArenaLayout, columns: number) {
    this.layout = layout;
    this.arena = sharedFloats(layout.totalFloats);
    this.slots = new SeriesSlots(layout.capacity);
    this.columns = columns;
    this.steps = new Float64Array(layout.capacity);
    this.previous = new Float64Array(layout.capacity * columns);
    this.hasPrevious = new Uint8Array(layout.capacity);
    this.lastSeq = new Float64Array(layout.capacity).fill(-1);
  }

  /**
   * The slot of `series`, marked most recently used; a new series gets a zeroed slot, evicting the
   * least recently used series (reported through onEvict) when the arena is full.
   */
  acquire(series: string, onEvict: (victim: string) => void): number {
    const known = this.slots.touch(series);
    if (known !== undefined) return known;
    if (!this.slots.hasFree()) {
      const victim = this.slots.oldest()!;
      this.slots.remove(victim);
      onEvict(victim);
    }
    const slot = this.slots.add(series);
    this.clear(slot);
    return slot;
  }

  /** Zero a slot: a fresh series starts from h = 0, like nn.GRU without h0. */
  clear(slot: number): void {
    const at = slotOffset(this.layout, slot);
    this.arena.fill(0, at, at + this.layout.slotStride);
    this.steps[slot] = 0;
    this.hasPrevious[slot] = 0;
    this.lastSeq[slot] = -1;
    this.previous.fill(0, slot * this.columns, (slot + 1) * this.columns);
    this.onClear?.(slot);
  }

  /** The hidden state floats of a slot ([L][H] then padding). */
  stateOf(slot: number): Float32Array {
    const at = slotOffset(this.layout, slot);
    return this.arena.subarray(at, at + this.layout.slotStride);
  }
}
