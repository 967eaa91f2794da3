// The arithmetic of the native GRU kernel, free of N-API so it can be read (and tested) on its own.
// Every region, stride and gate offset comes from src/kernel/layout.ts (its KernelDescriptor, read
// by name in addon.cc). The only offsets computed on this side are gru_state_row() and
// gru_head_row() below, which mirror layout.ts stateOffset() and headRow() from those numbers.
#ifndef GRU_STREAM_KERNEL_H
#define GRU_STREAM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

struct GruLayerRegions {
  int inSize;
  size_t wx, wh, bx, bhn;  // float offsets into the weights buffer (layout.ts LayerRegions)
};

struct GruKernelState {
  // Shape (layout.ts GruShape) and strides (WeightLayout.gateStride, ArenaLayout.slotStride and
  // layerStride), all from the KernelDescriptor.
  int I, H, L, O;
  bool resetAfter;
  size_t gateStride, slotStride, layerStride;
  // WeightLayout.gates: where r, z and n start in a packed gate row (and in the g scratch rows,
  // which follow the same order). addon.cc checks r = 0, z = H, n = 2H: r and z share one product.
  size_t gateR, gateZ, gateN;
  size_t totalSlots;
  int maxBatch;
  GruLayerRegions* layers;  // L entries
  size_t headW, headB, headRowStride;  // valid when O > 0
  const GruSimd* simd;  // the vector path: products and activations (addon.cc picks it before gru_kernel_alloc)

  // Shared memory, owned by JS (the addon holds references so these stay alive).
  const float* weights;
  float* arena;

  // Scratch, allocated once at creation for maxBatch rows: nothing is allocated per step.
  size_t gRow;     // floats per row of g: gateStride plus room for the last vector's overrun
  size_t hRow;     // floats per row of ghn / rh: H rounded up to 16, plus room for the overrun
  float* g;        // [maxBatch][gRow] gate pre-activations (r, z combined; n input part)
  float* ghn;      // [maxBatch][hRow] reset-after: W_hn h + b_hn; reset-before: r * h
  float* packed;   // every layer's GruPackedProduct data (one allocation)
  int chunkRows;   // rows stepped through every layer at a time: the gate scratch of a chunk fits L2
  GruPackedProduct* products;  // [L][3]: r/z; n input part (or whole n for reset-before); n state part
  const float** xRows;  // [maxBatch] this layer's input row of each batch row
  float** hRows;        // [maxBatch] this layer's state row of each batch row
  float** gRows;        // [maxBatch] fixed row pointers into g
  float** qRows;        // [maxBatch] fixed row pointers into ghn
  float** rowBlock;     // the one allocation behind the four pointer arrays above
};

// layout.ts stateOffset(): layer `layer`'s state in arena slot `slot`.
inline float* gru_state_row(const GruKernelState* k, int32_t slot, int layer) {
  return k->arena + static_cast<size_t>(slot) * k->slotStride + static_cast<size_t>(layer) * k->layerStride;
}

// layout.ts headRow(): the weights of head output `o`.
inline const float* gru_head_row(const GruKernelState* k, int o) {
  return k->weights + k->headW + static_cast<size_t>(o) * k->headRowStride;
}

// Fills the scratch fields; false when memory is short. The caller has filled everything else.
bool gru_kernel_alloc(GruKernelState* k);
void gru_kernel_free(GruKernelState* k);

// Steps `count` rows (count <= maxBatch, slots already range-checked) in place; see kernel.ts.
void gru_kernel_step(GruKernelState* k, int count, const int32_t* slots, const float* inputs, float* out);

#endif
