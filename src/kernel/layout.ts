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
 *   gate-major [r(0..H) | z(H..2H) | n(2H..3H) | zero padding up to gateStride].
 *   Transposed so that a batch step is a sum of contiguous row axpys (SIMD-friendly, no gathers).
 *   bx = b_ih + b_hh for r and z (they are only ever added together), b_in for n (b_in + b_hn for
 *   reset-before, where b_hn sits outside the reset product). bhn = b_hn for reset-after, zeros otherwise.
 *
 *   ARENA (hidden states, one slot per series)
 *   ┌── slot 0 ──┬── slot 1 ──┬ ... ┬ slot capacity-1 ┬──────── thread 0 ────────┬──────── thread 1 ───── ...
 *   │ [L][H] pad │ [L][H] pad │     │                 │ scratch xB │ backup xB   │ scratch xB │ backup xB
 *   └────────────┴────────────┴ ... ┴─────────────────┴────────────┴─────────────┴────────────┴────────── ...
 *   Live slots belong to series (the state arena maps ids to them). The rest belongs to one compute
 *   thread each (B = maxBatch): scratch slots for horizon roll-outs, which copy live states there so the
 *   live state is never touched; backup slots where a pool thread copies its shard's states before
 *   stepping them, so a shard whose worker dies can be rolled back (see CONTROL below).
 *
 *   CONTROL (Int32Array over its own SharedArrayBuffer, one word per compute thread)
 *   [ backupSeq(thread 0) | backupSeq(thread 1) | ... ]
 *   A thread stores the task's sequence number here (Atomics.store) after its backup is complete and
 *   before it writes any live slot; whoever sees that number afterwards may restore from the backup.
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

export interface WeightLayout {
  shape: GruShape;
  /** Floats per packed gate row: 3H rounded up to ALIGN_FLOATS. */
  gateStride: number;
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
  return { shape, gateStride, layers, head, totalFloats: at };
}

export interface ArenaLayout {
  /** Floats per slot: numLayers * hiddenSize rounded up to ALIGN_FLOATS. Layer l of slot s starts at s*slotStride + l*H. */
  slotStride: number;
  /** Live slots, one per series. */
  capacity: number;
  /** Scratch slots, and as many backup slots, reserved per compute thread (the largest batch a thread steps at once). */
  maxBatch: number;
  /** Compute threads that each own a scratch and a backup block (main thread is thread 0). */
  threads: number;
  totalSlots: number;
  totalFloats: number;
}

export function arenaLayout(shape: GruShape, capacity: number, maxBatch: number, threads: number): ArenaLayout {
  const slotStride = alignUp(shape.numLayers * shape.hiddenSize);
  const totalSlots = capacity + 2 * maxBatch * threads;
  return { slotStride, capacity, maxBatch, threads, totalSlots, totalFloats: totalSlots * slotStride };
}

/** First scratch slot owned by compute thread `thread`. */
export function scratchSlot(arena: ArenaLayout, thread: number): number {
  return arena.capacity + 2 * thread * arena.maxBatch;
}

/** First backup slot owned by compute thread `thread`: row b of its shard is backed up at +b. */
export function backupSlot(arena: ArenaLayout, thread: number): number {
  return scratchSlot(arena, thread) + arena.maxBatch;
}

/** The CONTROL words: backupSeq per compute thread. */
export function controlWords(threads: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * Math.max(1, threads)));
}

export function sharedFloats(count: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(1, count) * 4));
}
