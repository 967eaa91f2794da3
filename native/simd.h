// The vector paths of a GRU step: its products (bias + X Wx + H Wh over batch rows) and its
// activation passes, one implementation per ISA. gru_kernel.cc calls them through a GruSimd chosen
// at kernel creation (addon.cc: the widest the CPU has, or GRU_STREAM_NATIVE_ISA). Each lives in its
// own translation unit compiled for its ISA (simd_avx2.cc, simd_avx512.cc) from the templates in
// gemm_impl.h and gates_impl.h, so the addon still loads, and runs the AVX2 path, on a CPU without
// AVX-512.
//
// Every path computes each output element as bias + its products in k order, one FMA at a time,
// and every activation with the same per-lane operations: vector width, block shape and batch
// position change which lanes share an instruction, never the arithmetic of a lane, so all paths
// give the same bits.
#ifndef GRU_STREAM_SIMD_H
#define GRU_STREAM_SIMD_H

#include <stddef.h>

// One weight product of a layer (e.g. "r and z over [x, h]"), copied at creation into the order the
// micro-kernel reads it: column panels of a few vectors each, each panel its kx + kh weight rows
// back to back, contiguous. The weights are read-only after load, so this costs memory once (about
// the size of the weights) and no per-step copy.
struct GruPackedProduct {
  int kx, kh;     // weight rows from the input part, then from the state part
  int vecs;       // column vectors (of the GruSimd's width) in the product
  float* data;    // panels back to back (inside GruKernelState.packed)
};

struct GruKernelState;

struct GruSimd {
  const char* name;  // "avx2", "avx512": what GRU_STREAM_NATIVE_ISA names
  int vecFloats;     // floats per vector: products are padded to it, and written up to it
  int rowBlock;      // rows per register block of the packed path (kernel chunks are a multiple)
  // Copies columns [0, width) (rounded up to whole vectors) of rows [0, kx) of wx, then rows [0, kh)
  // of wh (stride S) into P's panels at dst; returns the floats used.
  size_t (*pack)(GruPackedProduct* P, float* dst, const float* wx, int kx, const float* wh, int kh, int width, size_t S);
  // Columns [c0, c0 + vecFloats * P.vecs) of out rows = bias + X Wx + H Wh for `count` rows (bias may
  // be null: zero). Small batches read wx and wh in place (stride S), larger ones P's panels.
  void (*run)(int count, const float* const* xr, const float* const* hr, const GruPackedProduct& P, const float* wx,
              const float* wh, const float* bias, size_t S, float* const* out, size_t c0);
  // The activation passes over the kernel's rows [0, count) (gates_impl.h): reset-after's one pass;
  // reset-before's r, z pass (before the n product) and n pass (after it).
  void (*gatesAfter)(GruKernelState* k, int count);
  void (*gatesBeforeRz)(GruKernelState* k, int count);
  void (*gatesBeforeN)(GruKernelState* k, int count);
};

extern const GruSimd gru_simd_avx2;
extern const GruSimd gru_simd_avx512;

#endif
