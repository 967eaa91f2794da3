// The arithmetic of the native GRU kernel, free of N-API so it can be read (and tested) on its own.
// Offsets and strides come from src/kernel/layout.ts through the addon: this file computes none of
// its own, it only follows the regions it is given.
#ifndef GRU_STREAM_KERNEL_H
#define GRU_STREAM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

struct GruLayerRegions {
  int inSize;
  size_t wx, wh, bx, bhn;  // float offsets into the weights buffer (layout.ts LayerRegions)
};

// One weight product of a layer (e.g. "r and z over [x, h]"), copied at creation into the order the
// micro-kernel reads it: column panels of 8*nv floats (nv <= 3), each panel its kx + kh weight rows
// back to back, contiguous. The weights are read-only after load, so this costs memory once (about
// the size of the weights) and no per-step copy.
struct GruPackedProduct {
  int kx, kh;     // weight rows from the input part, then from the state part
  int vecs;       // 8-float column vectors in the product
  float* data;    // panels back to back (inside GruKernelState.packed)
};

struct GruKernelState {
  // Shape (layout.ts GruShape) and strides (WeightLayout.gateStride, ArenaLayout.slotStride).
  int I, H, L, O;
  bool resetAfter;
  size_t gateStride, slotStride;
  size_t totalSlots;
  int maxBatch;
  GruLayerRegions* layers;  // L entries
  size_t headW, headB;      // valid when O > 0

  // Shared memory, owned by JS (the addon holds references so these stay alive).
  const float* weights;
  float* arena;

  // Scratch, allocated once at creation for maxBatch rows: nothing is allocated per step.
  size_t gRow;     // floats per row of g: gateStride plus room for the last vector's overrun
  size_t hRow;     // floats per row of ghn / rh: H rounded up to 16
  float* g;        // [maxBatch][gRow] gate pre-activations (r, z combined; n input part)
  float* ghn;      // [maxBatch][hRow] reset-after: W_hn h + b_hn; reset-before: r * h
  float* packed;   // every layer's GruPackedProduct data (one allocation)
  GruPackedProduct* products;  // [L][3]: r/z; n input part (or whole n for reset-before); n state part
  const float** xRows;  // [maxBatch] this layer's input row of each batch row
  float** hRows;        // [maxBatch] this layer's state row of each batch row
  float** gRows;        // [maxBatch] fixed row pointers into g
  float** qRows;        // [maxBatch] fixed row pointers into ghn
  float** rowBlock;     // the one allocation behind the four pointer arrays above
};

// Fills the scratch fields; false when memory is short. The caller has filled everything else.
bool gru_kernel_alloc(GruKernelState* k);
void gru_kernel_free(GruKernelState* k);

// Steps `count` rows (count <= maxBatch, slots already range-checked) in place; see kernel.ts.
void gru_kernel_step(GruKernelState* k, int count, const int32_t* slots, const float* inputs, float* out);

#endif
