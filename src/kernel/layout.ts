/**
 * The one place that names every region of gru-stream's shared memory.
 * Kernels (JS or native), the pool and the state arena compute offsets only through this file.
 *
 * Two SharedArrayBuffers, both Float32, both shared read/write between threads:
 *
 *   WEIGHTS (written once at load, read-only afterwards)
 *   ┌──────────── layer 0 ────────────┬──── layer 1 ... ────┬──── head ────┐
 *   │ wx [in0 rows][gateStride]        │                      │ w [O][H]     │
 *   │ wh [H rows][gateStride]          │   same regions with  │ b [O]        │
 *   │ bx [gateStride]                  │   in_l = H           │              │
 *   │ bhn [H]                          │                      │              │
 *   └──────────────────────────────────┴──────────────────────┴──────────────┘
 *   wx/wh are W_ih^T / W_hh^T: row k holds the 3H gate pre-activation weights of input k,
 *   gate-major [r(0..H) | z(H..2H) | n(2H..3H) | zero padding up to gateStride]; WeightLayout.gates
 *   names those three offsets (PyTorch's [3H] tensors use the same r, z, n order).
 *   Transposed so that a batch step is a sum of contiguous row axpys (SIMD-friendly, no gathers).
 *   bx = b_ih + b_hh for r and z (they are only ever added together), b_in for n (b_in + b_hn for
 *   reset-before, where b_hn sits outside the reset product). bhn = b_hn for reset-after, zeros otherwise.
 *
 *   ARENA (hidden states, one slot per series)
 *   ┌── slot 0 ──┬── slot 1 ──┬ ... ┬ slot capacity-1 ┬──────── thread 0 ────────┬──────── thread 1 ───── ...
 *   │ [L][H] pad │ [L][H] pad │     │                 │ scratch xB │ backup xB   │ scratch xB │ backup xB
 *   └────────────┴────────────┴ ... ┴─────────────────┴────────────┴─────────────┴────────────┴────────── ...
 *   Inside a slot, layer l's state starts at l * layerStride (layers packed, the slot padded):
 *   stateOffset(arena, slot, l). Everything that reads or writes a state goes through slotOffset,
 *   stateOffset or copySlot below; the native kernel gets the same numbers in the KernelDescriptor.
 *   Live slots belong to series (the state arena maps ids to them). The rest belongs to one compute
 *   thread each (B = maxBatch): scratch slots for horizon roll-outs, which copy live states there so the
 *   live state is never touched; backup slots where a pool thread copies its shard's states before
 *   stepping them, so a shard whose worker dies can be rolled back (see CONTROL below).
 *
 *   CONTROL (Int32Array over its own SharedArrayBuffer, one 64-byte block per compute thread so two
 *   threads' words never share a cache line)
 *   ┌──────────────────────── thread 0 (16 words) ─────────────────────────┬── thread 1 ── ...
 *   │ backupSeq │ jobSeq │ jobStart │ jobCount │ jobFault │ doneSeq │ ready │ parked │ (pad) │ ...
 *   └───────────────────────────────────────────────────────────────────────────────┴───── ...
 *   backupSeq: a thread stores the shard's sequence number here (Atomics.store) after its backup is
 *     complete and before it writes any live slot; whoever sees that number afterwards may restore
 *     from the backup.
 *   jobSeq, jobStart, jobCount, jobFault: the dispatcher writes start, count and fault with plain
 *     stores, then jobSeq with Atomics.store (+ notify). The resident worker loop waits on jobSeq;
 *     its Atomics.load of the new seq orders the plain reads of start/count after the dispatcher's
 *     writes (both sides are sequentially consistent on that word).
 *   doneSeq: the worker stores the job's seq (+ notify) after its last write of outputs and states,
 *     so the dispatcher's Atomics.load/wait that sees it also sees every result.
 *   jobSeq = STOP_SEQ (never a job's seq) asks the loop to return. ready: 1 once the loop runs.
 *   parked: 1 while the loop sleeps until notified (it stores 1, looks at jobSeq once more, then
 *     waits); the dispatcher stores jobSeq, then notifies only if it loads parked = 1. Both words
 *     are sequentially consistent, so either the loop sees the new job or the dispatcher sees it
 *     parked: a job is never left unseen, and a loop still polling costs the dispatcher no notify.
 *   doneAt (Float64Array over its own SharedArrayBuffer, one per thread): the wall-clock time
 *   (timeOrigin + now, ms) at which the thread finished its last job; the dispatcher splits rows by it.
 *
 *   JOB (three SharedArrayBuffers sized for maxBatch rows): slots Int32 [B], inputs Float32 [B][I],
 *   out Float32 [B][horizon*O]. A job is the row range [jobStart, jobStart + jobCount) of these, the
 *   same rows as in the caller's batch, so shards never overlap.
 *
 * Every region starts on a 16-float (64-byte) boundary so SIMD kernels can use aligned loads; padding
 * floats are zero and kernels may read (never rely on writing) them.
 */

/** Floats per alignment unit: 16 floats = 64 bytes = one cache line = two AVX registers. */
export const ALIGN_FLOATS = 16;

export function alignUp(n: number, to: number = ALIGN_FLOATS): number {
  return Math.ceil(n / to) * to;
}

/** The sizes of a GRU stack, after seed-variant weights have been rewritten to the PyTorch form. */
export interface GruShape {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Rows of the linear head; 0 when the model has no head. */
  outputSize: number;
  /**
   * true: PyTorch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
   * false: textbook n = tanh(W_in x + W_hn (r * h) + b), the `seed` variant and Keras reset_after=false.
   */
  resetAfter: boolean;
}

export interface LayerRegions {
  /** Input width of this layer: inputSize for layer 0, hiddenSize above. */
  inSize: number;
  wx: number;
  wh: number;
  bx: number;
  bhn: number;
}

/** Where each gate's H columns start in a packed gate row (and its H rows in PyTorch's [3H] tensors). */
export interface GateOffsets {
  r: number;
  z: number;
  n: number;
}

export interface WeightLayout {
  shape: GruShape;
  /** Floats per packed gate row: 3H rounded up to ALIGN_FLOATS. */
  gateStride: number;
  /** r, z, n in that order, H apart: r and z are adjacent so one product computes both. */
  gates: GateOffsets;
  layers: LayerRegions[];
  /** Head regions, or null without a head. w is [O][H] row-major (dot products: O is small). */
  head: { w: number; b: number } | null;
  totalFloats: number;
}

export function weightLayout(shape: GruShape): WeightLayout {
  const H = shape.hiddenSize;
  const gateStride = alignUp(3 * H);
  let at = 0;
  const take = (floats: number): number => {
    const start = at;
    at += alignUp(floats);
    return start;
  };
  const layers: LayerRegions[] = [];
  for (let l = 0; l < shape.numLayers; l++) {
    const inSize = l === 0 ? shape.inputSize : H;
    layers.push({
      inSize,
      wx: take(inSize * gateStride),
      wh: take(H * gateStride),
      bx: take(gateStride),
      bhn: take(H),
    });
  }
  const head = shape.outputSize > 0 ? { w: take(shape.outputSize * H), b: take(shape.outputSize) } : null;
  return { shape, gateStride, gates: { r: 0, z: H, n: 2 * H }, layers, head, totalFloats: at };
}

/** Offset of head row `o` (the H weights of output o) in the weights. */
export function headRow(layout: WeightLayout, o: number): number {
  return layout.head!.w + o * layout.shape.hiddenSize;
}

export interface ArenaLayout {
  /** Floats per slot: numLayers * hiddenSize rounded up to ALIGN_FLOATS. */
  slotStride: number;
  /** Floats from one layer's state to the next inside a slot (hiddenSize: only the slot is padded). */
  layerStride: number;
  /** Floats of a slot that hold state (numLayers * hiddenSize); the rest is zero padding. */
  stateFloats: number;
  /** Live slots, one per series. */
  capacity: number;
  /** Scratch slots, and as many backup slots, reserved per compute thread (the largest batch a thread steps at once). */
  maxBatch: number;
  /** Compute threads that each own a scratch and a backup block, numbered from 0 by whoever dispatches. */
  threads: number;
  totalSlots: number;
  totalFloats: number;
}

export function arenaLayout(shape: GruShape, capacity: number, maxBatch: number, threads: number): ArenaLayout {
  const stateFloats = shape.numLayers * shape.hiddenSize;
  const slotStride = alignUp(stateFloats);
  const totalSlots = capacity + 2 * maxBatch * threads;
  return { slotStride, layerStride: shape.hiddenSize, stateFloats, capacity, maxBatch, threads, totalSlots, totalFloats: totalSlots * slotStride };
}

/** First float of slot `slot` in the arena. */
export function slotOffset(arena: ArenaLayout, slot: number): number {
  return slot * arena.slotStride;
}

/** First float of layer `layer`'s state in slot `slot` (H floats from there). */
export function stateOffset(arena: ArenaLayout, slot: number, layer: number): number {
  return slot * arena.slotStride + layer * arena.layerStride;
}

/** Copy the whole of slot `from` over slot `to` (padding included: it is zero in both). */
export function copySlot(floats: Float32Array, arena: ArenaLayout, from: number, to: number): void {
  const at = from * arena.slotStride;
  floats.copyWithin(to * arena.slotStride, at, at + arena.slotStride);
}

/** First scratch slot owned by compute thread `thread`. */
export function scratchSlot(arena: ArenaLayout, thread: number): number {
  return arena.capacity + 2 * thread * arena.maxBatch;
}

/** First backup slot owned by compute thread `thread`: row b of its shard is backed up at +b. */
export function backupSlot(arena: ArenaLayout, thread: number): number {
  return scratchSlot(arena, thread) + arena.maxBatch;
}

/** The words of one thread's CONTROL block (see the map above). */
export const Control = {
  backupSeq: 0,
  jobSeq: 1,
  jobStart: 2,
  jobCount: 3,
  jobFault: 4,
  doneSeq: 5,
  ready: 6,
  parked: 7,
} as const;

/** jobSeq value that asks a resident loop to return (job seqs are positive). */
export const STOP_SEQ = -1;

/** Words per thread block: 16 * 4 bytes = one cache line. */
export const CONTROL_BLOCK_WORDS = 16;

/** Index of `word` of thread `thread` in the CONTROL array. */
export function controlIndex(thread: number, word: number): number {
  return thread * CONTROL_BLOCK_WORDS + word;
}

/** The CONTROL words, a block per compute thread. */
export function controlWords(threads: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * CONTROL_BLOCK_WORDS * Math.max(1, threads)));
}

/** The JOB buffers a dispatcher and its resident workers share: rows of one batch. */
export interface JobBuffers {
  slots: Int32Array;
  inputs: Float32Array;
  out: Float32Array;
  /** Per thread: when its last job finished (timeOrigin + now, ms). */
  doneAt: Float64Array;
}

export function jobBuffers(shape: GruShape, arena: ArenaLayout, horizon: number): JobBuffers {
  const rows = Math.max(1, arena.maxBatch);
  return {
    slots: new Int32Array(new SharedArrayBuffer(4 * rows)),
    inputs: sharedFloats(rows * shape.inputSize),
    out: sharedFloats(rows * horizon * Math.max(1, shape.outputSize)),
    doneAt: new Float64Array(new SharedArrayBuffer(8 * Math.max(1, arena.threads))),
  };
}

/**
 * Everything the native kernel needs to find its way in the two buffers, by name: built here, read by
 * name in native/addon.cc (napi_get_named_property), so neither side depends on an order of fields.
 */
export interface KernelDescriptor {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  outputSize: number;
  resetAfter: boolean;
  gateStride: number;
  gates: GateOffsets;
  slotStride: number;
  layerStride: number;
  /** Rows the kernel's scratch is sized for. */
  maxBatch: number;
  layers: LayerRegions[];
  /** Head regions and the floats between head rows; null without a head. */
  head: { w: number; b: number; rowStride: number } | null;
}

export function kernelDescriptor(weights: WeightLayout, arena: ArenaLayout, maxBatch: number): KernelDescriptor {
  const s = weights.shape;
  return {
    inputSize: s.inputSize,
    hiddenSize: s.hiddenSize,
    numLayers: s.numLayers,
    outputSize: s.outputSize,
    resetAfter: s.resetAfter,
    gateStride: weights.gateStride,
    gates: { ...weights.gates },
    slotStride: arena.slotStride,
    layerStride: arena.layerStride,
    maxBatch,
    layers: weights.layers.map((l) => ({ ...l })),
    head: weights.head ? { ...weights.head, rowStride: s.hiddenSize } : null,
  };
}

export function sharedFloats(count: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(1, count) * 4));
}
