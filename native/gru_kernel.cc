// The native GRU step: a register-blocked micro-GEMM over batch rows plus a separate activation
// pass (simd.h: AVX2 or AVX-512), on the packed, transposed weights of src/kernel/layout.ts. Same
// math as js-kernel.ts, in float32 with FMA (the tests hold it to 1e-5 of the float64 JS kernel).
//
// This file is compiled for AVX2/FMA (the pragma below), the vector paths each for their own ISA;
// addon.cc stays baseline x86-64 so loading the addon and its cpuSupported() check cannot
// themselves fault on an older CPU.
#pragma GCC target("avx2,fma")

#include "gru_kernel.h"

#include <stdlib.h>
#include <string.h>

#include "gates_impl.h"

namespace {

// One product through the kernel's vector path (simd.h): bias + X Wx + H Wh into columns from c0.
inline void gemm(const GruKernelState* k, int count, const float* const* xr, const float* const* hr,
                 const GruPackedProduct& P, const float* wx, const float* wh, const float* bias, float* const* out,
                 size_t c0) {
  k->simd->run(count, xr, hr, P, wx, wh, bias, k->gateStride, out, c0);
}

void stepLayer(GruKernelState* k, int l, int count) {
  const GruLayerRegions& at = k->layers[l];
  const float* w = k->weights;
  float* const* g = k->gRows;
  float* const* q = k->qRows;
  const float* const* xr = k->xRows;
  const float* const* hr = const_cast<const float* const*>(k->hRows);
  // Gate columns (layout.ts gates): r at 0, z at H, n at N; r and z are one product of width N.
  const size_t N = k->gateN;

  // r and z: input and hidden products share the accumulators (only their sum is ever used).
  const GruPackedProduct* P = k->products + 3 * l;
  gemm(k, count, xr, hr, P[0], w + at.wx, w + at.wh, w + at.bx, g, 0);
  if (k->resetAfter) {
    // n needs W_in x + b_in and W_hn h + b_hn apart: r multiplies only the second.
    gemm(k, count, xr, hr, P[1], w + at.wx + N, w + at.wh, w + at.bx + N, g, N);
    gemm(k, count, xr, hr, P[2], w + at.wx, w + at.wh + N, w + at.bhn, q, 0);
    k->simd->gatesAfter(k, count);
  } else {
    // Reset before the product: r * h must exist before W_hn meets it, so activate r and z first
    // (z kept in place of its pre-activation, r * h in the ghn rows), then run the n product over
    // [x, r*h] in one pass.
    k->simd->gatesBeforeRz(k, count);
    gemm(k, count, xr, const_cast<const float* const*>(q), P[1], w + at.wx + N, w + at.wh + N, w + at.bx + N, g, N);
    k->simd->gatesBeforeN(k, count);
  }
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The head stays on 8-float vectors on every path: its sum is split into 8 lanes and then added
// across, and a wider split would change the bits.
void stepHead(GruKernelState* k, int count, float* out) {
  const int H = k->H;
  for (int b = 0; b < count; b++) {
    const float* top = k->hRows[b];  // hRows still point at the last layer
    for (int o = 0; o < k->O; o++) {
      const float* wrow = gru_head_row(k, o);
      __m256 acc = _mm256_setzero_ps();
      for (int j = 0; j < H; j += 8) acc = _mm256_fmadd_ps(loadState<Ymm>(top, j, H), loadState<Ymm>(wrow, j, H), acc);
      out[static_cast<size_t>(b) * k->O + o] = k->weights[k->headB + o] + hsum(acc);
    }
  }
}

}  // namespace

#ifndef GRU_L2_BUDGET
#define GRU_L2_BUDGET (192 * 1024)
#endif

bool gru_kernel_alloc(GruKernelState* k) {
  k->gRow = k->gateStride + 16;
  k->hRow = (static_cast<size_t>(k->H) + 15) / 16 * 16 + 16;
  // Rows go through every layer and the head in chunks whose gate scratch (g and ghn rows) stays in
  // L2: stepping the whole batch layer by layer wrote 1 MB of W2 pre-activations and read it back
  // from L3 in the activation pass. A chunk is a whole number of the GEMM's row blocks so only the
  // last one has a tail; the arithmetic of a row does not depend on its chunk (see simd.h).
  const size_t rowBytes = (k->gRow + k->hRow) * sizeof(float);
  const int rb = k->simd->rowBlock;
  k->chunkRows = static_cast<int>(GRU_L2_BUDGET / rowBytes) / rb * rb;
  if (k->chunkRows < rb) k->chunkRows = rb;
  const size_t rows = static_cast<size_t>(k->maxBatch > 0 ? k->maxBatch : 1);
  k->g = static_cast<float*>(aligned_alloc(64, rows * k->gRow * sizeof(float)));
  k->ghn = static_cast<float*>(aligned_alloc(64, rows * k->hRow * sizeof(float)));
  // One block of 4 pointer arrays: xRows, hRows, then row pointers into g and ghn (fixed, set here).
  // Packed products: per layer (in + H) rows of 2H (r, z) and H (n) columns, plus H rows of H columns
  // for reset-after's separate W_hn h; each rounded up to whole vectors.
  const size_t W = k->simd->vecFloats;
  const size_t hv = (k->H + W - 1) / W * W, h2v = (2 * k->H + W - 1) / W * W;
  size_t packedFloats = 0;
  for (int l = 0; l < k->L; l++) packedFloats += (k->layers[l].inSize + static_cast<size_t>(k->H)) * (h2v + hv) + k->H * hv;
  k->packed = static_cast<float*>(aligned_alloc(64, (packedFloats + 16) / 16 * 16 * sizeof(float)));
  k->products = static_cast<GruPackedProduct*>(calloc(3 * static_cast<size_t>(k->L), sizeof(GruPackedProduct)));
  k->rowBlock = static_cast<float**>(calloc(4 * rows, sizeof(float*)));
  if (!k->g || !k->ghn || !k->packed || !k->products || !k->rowBlock) return false;
  const int H = k->H;
  const size_t S = k->gateStride, N = k->gateN;
  float* dst = k->packed;
  for (int l = 0; l < k->L; l++) {
    const GruLayerRegions& at = k->layers[l];
    const float* wx = k->weights + at.wx;
    const float* wh = k->weights + at.wh;
    GruPackedProduct* P = k->products + 3 * l;
    // P[0]: r and z, columns [0, N) of a gate row; the others: n's H columns from N.
    dst += k->simd->pack(&P[0], dst, wx, at.inSize, wh, H, static_cast<int>(N), S);
    if (k->resetAfter) {
      dst += k->simd->pack(&P[1], dst, wx + N, at.inSize, wh, 0, H, S);
      dst += k->simd->pack(&P[2], dst, wx, 0, wh + N, H, H, S);
    } else {
      dst += k->simd->pack(&P[1], dst, wx + N, at.inSize, wh + N, H, H, S);
    }
  }
  memset(k->g, 0, rows * k->gRow * sizeof(float));
  memset(k->ghn, 0, rows * k->hRow * sizeof(float));
  k->xRows = const_cast<const float**>(k->rowBlock);
  k->hRows = k->rowBlock + rows;
  k->gRows = k->hRows + rows;
  k->qRows = k->gRows + rows;
  for (size_t b = 0; b < rows; b++) {
    k->gRows[b] = k->g + b * k->gRow;
    k->qRows[b] = k->ghn + b * k->hRow;
  }
  return true;
}

void gru_kernel_free(GruKernelState* k) {
  free(k->g);
  free(k->ghn);
  free(k->packed);
  free(k->products);
  free(k->rowBlock);
  k->g = k->ghn = k->packed = nullptr;
  k->products = nullptr;
  k->rowBlock = nullptr;
  k->xRows = nullptr;
  k->hRows = k->gRows = k->qRows = nullptr;
}

namespace {
// Asks for every cache line of the states (all layers) of slots [0, n).
inline void prefetchSlots(const GruKernelState* k, const int32_t* slots, int n) {
  const size_t bytes = static_cast<size_t>(k->L) * k->layerStride * sizeof(float);
  for (int b = 0; b < n; b++) {
    const char* p = reinterpret_cast<const char*>(gru_state_row(k, slots[b], 0));
    for (size_t at = 0; at < bytes; at += 64) __builtin_prefetch(p + at, 1, 3);
  }
}

bool contiguous(const int32_t* slots, int n) {
  for (int b = 1; b < n; b++)
    if (slots[b] != slots[b - 1] + 1) return false;
  return true;
}

// Row blocks per chunk when the slots are scattered (see gru_kernel_step).
constexpr int kScatteredBlocks = 8;
}  // namespace

void gru_kernel_step(GruKernelState* k, int count, const int32_t* slots, const float* inputs, float* out) {
  if (count <= 0) return;
  // Scattered slots (a tick over a few of a million live series: rows anywhere in a 64 MB arena,
  // often a power-of-two stride apart, so they also fight over the same cache sets) go in small
  // chunks whose states stay cached across the chunk's passes (each product and the activation pass
  // read a state row again), with the next chunk's states prefetched while this one computes. In
  // one big chunk every pass missed every row again: at 1,048,576 live series, H=16, a 1,024-row
  // tick took 69 us against 47 at 1,024 live; in chunks of 48, 54 (standalone, avx512).
  const bool scattered = !contiguous(slots, count);
  int chunk = k->chunkRows;
  if (scattered && chunk > kScatteredBlocks * k->simd->rowBlock) chunk = kScatteredBlocks * k->simd->rowBlock;
  if (scattered) prefetchSlots(k, slots, count < chunk ? count : chunk);
  for (int c0 = 0; c0 < count; c0 += chunk) {
    const int n = count - c0 < chunk ? count - c0 : chunk;
    const int ahead = count - c0 - n < chunk ? count - c0 - n : chunk;
    if (scattered && ahead > 0) prefetchSlots(k, slots + c0 + n, ahead);
    for (int l = 0; l < k->L; l++) {
      for (int b = 0; b < n; b++) {
        k->hRows[b] = gru_state_row(k, slots[c0 + b], l);
        // Layer 0 reads the caller's input row; layer l reads layer l-1's state, already stepped.
        k->xRows[b] = l == 0 ? inputs + static_cast<size_t>(c0 + b) * k->I : gru_state_row(k, slots[c0 + b], l - 1);
      }
      stepLayer(k, l, n);
    }
    if (k->O > 0) stepHead(k, n, out + static_cast<size_t>(c0) * k->O);
  }
}
