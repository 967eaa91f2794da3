// The products of a GRU step (bias + X Wx + H Wh over batch rows), one implementation per vector ISA.
// gru_kernel.cc calls them through a GruGemm chosen at kernel creation (addon.cc: the widest the CPU
// has, or GRU_STREAM_NATIVE_ISA). Each lives in its own translation unit compiled for its ISA
// (gemm_avx2.cc, gemm_avx512.cc) from the one template in gemm_impl.h, so the addon still loads,
// and runs the AVX2 path, on a CPU without AVX-512.
//
// Every path computes each output element as bias + its products in k order, one FMA at a time:
// vector width, block shape and batch position change which lanes share an instruction, never the
// arithmetic of a lane, so all paths give the same bits.
#ifndef GRU_STREAM_GEMM_H
#define GRU_STREAM_GEMM_H

#include <stddef.h>

// One weight product of a layer (e.g. "r and z over [x, h]"), copied at creation into the order the
// micro-kernel reads it: column panels of a few vectors each, each panel its kx + kh weight rows
// back to back, contiguous. The weights are read-only after load, so this costs memory once (about
// the size of the weights) and no per-step copy.
struct GruPackedProduct {
  int kx, kh;     // weight rows from the input part, then from the state part
  int vecs;       // column vectors (of the GruGemm's width) in the product
  float* data;    // panels back to back (inside GruKernelState.packed)
};

struct GruGemm {
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
};

extern const GruGemm gru_gemm_avx2;
extern const GruGemm gru_gemm_avx512;

#endif
