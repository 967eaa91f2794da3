// The native GRU step: a register-blocked micro-GEMM over batch rows plus a separate activation
// pass, on the packed, transposed weights of src/kernel/layout.ts. Same math as js-kernel.ts,
// in float32 with FMA (the tests hold it to 1e-5 of the float64 JS kernel).
//
// Only this file is compiled for AVX2/FMA (the pragma below); addon.cc stays baseline x86-64 so
// loading the addon and asking gru_kernel_cpu_ok() cannot itself fault on an older CPU.
#pragma GCC target("avx2,fma")

#include "gru_kernel.h"

#include <stdlib.h>
#include <string.h>

#include "vmath.h"

namespace {

// Widest column block (in 8-float vectors) per row count, so MR x NV accumulators plus the NV
// weight vectors and a broadcast fit the 16 ymm registers: 4x3, 3x4, 2x6, 1x8.
constexpr int kMaxNv[5] = {0, 8, 6, 4, 3};

// out[r][0 .. 8NV) = bias + sum_k x_r[k] * wx[k*S ..] + sum_k h_r[k] * wh[k*S ..]
// Rows are reached through pointers (inputs, arena slots or scratch: no gather copy); weight rows
// are contiguous gate columns, so each k is NV vector loads, MR broadcasts and MR*NV FMAs.
template <int MR, int NV>
void block(const float* const* xr, int kx, const float* wx, const float* const* hr, int kh,
           const float* wh, const float* bias, size_t S, float* const* out, size_t col) {
  __m256 acc[MR][NV];
  #pragma GCC unroll 8
  for (int v = 0; v < NV; v++) {
    const __m256 b = bias ? _mm256_loadu_ps(bias + 8 * v) : _mm256_setzero_ps();
    #pragma GCC unroll 8
    for (int r = 0; r < MR; r++) acc[r][v] = b;
  }
  const float* w = wx;
  for (int k = 0; k < kx; k++, w += S) {
    __m256 wv[NV];
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) wv[v] = _mm256_loadu_ps(w + 8 * v);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const __m256 xb = _mm256_broadcast_ss(xr[r] + k);
      #pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(xb, wv[v], acc[r][v]);
    }
  }
  w = wh;
  for (int k = 0; k < kh; k++, w += S) {
    __m256 wv[NV];
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) wv[v] = _mm256_loadu_ps(w + 8 * v);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const __m256 hb = _mm256_broadcast_ss(hr[r] + k);
      #pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(hb, wv[v], acc[r][v]);
    }
  }
  #pragma GCC unroll 8
  for (int r = 0; r < MR; r++)
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(out[r] + col + 8 * v, acc[r][v]);
}

typedef void (*BlockFn)(const float* const*, int, const float*, const float* const*, int, const float*,
                        const float*, size_t, float* const*, size_t);

// kBlocks[MR][NV]: every shape gemm() can ask for (NV <= kMaxNv[MR]); the rest stay null.
#define GRU_ROW(MR) {nullptr, block<MR, 1>, block<MR, 2>, block<MR, 3>, \
  MR <= 3 ? block<MR <= 3 ? MR : 1, 4> : nullptr, MR <= 2 ? block<MR <= 2 ? MR : 1, 5> : nullptr, \
  MR <= 2 ? block<MR <= 2 ? MR : 1, 6> : nullptr, MR == 1 ? block<1, 7> : nullptr, MR == 1 ? block<1, 8> : nullptr}
const BlockFn kBlocks[5][9] = {{nullptr}, GRU_ROW(1), GRU_ROW(2), GRU_ROW(3), GRU_ROW(4)};
#undef GRU_ROW

// Copies rows [0, k) x columns [0, 8nv) of a strided weight region into a contiguous panel.
void packPanel(float* dst, const float* src, int k, size_t S, int nv) {
  for (int i = 0; i < k; i++, src += S, dst += 8 * nv)
    for (int v = 0; v < nv; v++) _mm256_storeu_ps(dst + 8 * v, _mm256_loadu_ps(src + 8 * v));
}

// Columns [c0, c0+width) of out rows = bias + X Wx + Hs Wh, for all `count` rows; wx, wh and bias
// already point at the region's first column.
// Column panels outside, row blocks inside: one panel of weights (K x 24 floats) is reused by every
// row block. Read in place, a panel's rows sit gateStride floats apart, and for strides like 192 or
// 768 floats those rows fall into a handful of L1 sets and evict each other on every pass; so with
// two or more row blocks the panel is first copied contiguous (a copy of each weight once per step,
// a few percent of the FLOPs). Full vectors are stored past c0+width (up to 7 floats): the scratch
// rows have room for it and the activation passes never read those columns.
void gemm(GruKernelState* k, int count, const float* const* xr, int kx, const float* wx, const float* const* hr,
          int kh, const float* wh, const float* bias, float* const* out, size_t c0, int width) {
  const size_t S = k->gateStride;
  const int maxNv = kMaxNv[count < 4 ? count : 4];
  const int vecs = (width + 7) / 8;
  // Panels as even as possible (16 vectors: 3,3,3,3,2,2 rather than 3,3,3,3,3,1): a 1-vector block
  // does one FMA per broadcast and runs at a fraction of the wide block's rate.
  const int panels = (vecs + maxNv - 1) / maxNv;
  for (int p = 0, v0 = 0; p < panels; p++) {
    const int nv = (vecs - v0 + (panels - p) - 1) / (panels - p);
    const size_t wc = 8 * static_cast<size_t>(v0);  // column within the weight region
    const float* bcol = bias ? bias + wc : nullptr;
    const float *px = wx + wc, *ph = wh + wc;
    size_t ps = S;
    if (count >= 8) {
      packPanel(k->pack, px, kx, S, nv);
      packPanel(k->pack + static_cast<size_t>(kx) * 8 * nv, ph, kh, S, nv);
      px = k->pack;
      ph = k->pack + static_cast<size_t>(kx) * 8 * nv;
      ps = 8 * static_cast<size_t>(nv);
    }
    int b = 0;
    if (count >= 4) {
      const BlockFn f = kBlocks[4][nv];
      for (; b + 4 <= count; b += 4) f(xr + b, kx, px, hr + b, kh, ph, bcol, ps, out + b, c0 + wc);
    }
    if (b < count) kBlocks[count - b][nv](xr + b, kx, px, hr + b, kh, ph, bcol, ps, out + b, c0 + wc);
    v0 += nv;
  }
}

inline __m256i tailMask(int n) {  // lanes [0, n) set, n in 1..8
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

// Arena rows are read and written with masks at the tail: the next layer's state (or the next slot,
// or the end of the buffer) starts right after H floats.
inline __m256 loadState(const float* p, int j, int H) {
  return H - j >= 8 ? _mm256_loadu_ps(p + j) : _mm256_maskload_ps(p + j, tailMask(H - j));
}
inline void storeState(float* p, int j, int H, __m256 v) {
  if (H - j >= 8) _mm256_storeu_ps(p + j, v);
  else _mm256_maskstore_ps(p + j, tailMask(H - j), v);
}

void stepLayer(GruKernelState* k, int l, int count) {
  const GruLayerRegions& at = k->layers[l];
  const int H = k->H;
  const float* w = k->weights;
  float* const* g = k->gRows;
  float* const* q = k->qRows;
  const float* const* xr = k->xRows;
  const float* const* hr = const_cast<const float* const*>(k->hRows);
  const size_t H2 = 2 * static_cast<size_t>(H);

  // r and z: input and hidden products share the accumulators (only their sum is ever used).
  gemm(k, count, xr, at.inSize, w + at.wx, hr, H, w + at.wh, w + at.bx, g, 0, 2 * H);
  if (k->resetAfter) {
    // n needs W_in x + b_in and W_hn h + b_hn apart: r multiplies only the second.
    gemm(k, count, xr, at.inSize, w + at.wx + H2, hr, 0, w + at.wh, w + at.bx + H2, g, H2, H);
    gemm(k, count, xr, 0, w + at.wx, hr, H, w + at.wh + H2, w + at.bhn, q, 0, H);
    for (int b = 0; b < count; b++) {
      const float* gb = g[b];
      const float* qb = q[b];
      float* h = k->hRows[b];
      for (int j = 0; j < H; j += 8) {
        const __m256 r = v_sigmoid(_mm256_loadu_ps(gb + j));
        const __m256 z = v_sigmoid(_mm256_loadu_ps(gb + H + j));
        const __m256 n = v_tanh(_mm256_fmadd_ps(r, _mm256_loadu_ps(qb + j), _mm256_loadu_ps(gb + H2 + j)));
        const __m256 hv = loadState(h, j, H);
        storeState(h, j, H, _mm256_fmadd_ps(z, _mm256_sub_ps(hv, n), n));  // (1-z) n + z h
      }
    }
  } else {
    // Reset before the product: r * h must exist before W_hn meets it, so activate r and z first,
    // keep z in place of its pre-activation, and run the n product over [x, r*h] in one pass.
    for (int b = 0; b < count; b++) {
      float* gb = g[b];
      float* rh = q[b];
      const float* h = k->hRows[b];
      for (int j = 0; j < H; j += 8) {
        const __m256 r = v_sigmoid(_mm256_loadu_ps(gb + j));
        _mm256_storeu_ps(gb + H + j, v_sigmoid(_mm256_loadu_ps(gb + H + j)));
        _mm256_storeu_ps(rh + j, _mm256_mul_ps(r, loadState(h, j, H)));
      }
    }
    // The z stores above may spill up to 7 floats into n's columns; this product overwrites them.
    gemm(k, count, xr, at.inSize, w + at.wx + H2, const_cast<const float* const*>(q), H, w + at.wh + H2,
         w + at.bx + H2, g, H2, H);
    for (int b = 0; b < count; b++) {
      const float* gb = g[b];
      float* h = k->hRows[b];
      for (int j = 0; j < H; j += 8) {
        const __m256 n = v_tanh(_mm256_loadu_ps(gb + H2 + j));
        const __m256 hv = loadState(h, j, H);
        storeState(h, j, H, _mm256_fmadd_ps(_mm256_loadu_ps(gb + H + j), _mm256_sub_ps(hv, n), n));
      }
    }
  }
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

void stepHead(GruKernelState* k, int count, float* out) {
  const int H = k->H;
  for (int b = 0; b < count; b++) {
    const float* top = k->hRows[b];  // hRows still point at the last layer
    for (int o = 0; o < k->O; o++) {
      const float* wrow = k->weights + k->headW + static_cast<size_t>(o) * H;
      __m256 acc = _mm256_setzero_ps();
      for (int j = 0; j < H; j += 8) acc = _mm256_fmadd_ps(loadState(top, j, H), loadState(wrow, j, H), acc);
      out[static_cast<size_t>(b) * k->O + o] = k->weights[k->headB + o] + hsum(acc);
    }
  }
}

}  // namespace

bool gru_kernel_alloc(GruKernelState* k) {
  k->gRow = k->gateStride + 16;
  k->hRow = (static_cast<size_t>(k->H) + 15) / 16 * 16 + 16;
  const size_t rows = static_cast<size_t>(k->maxBatch > 0 ? k->maxBatch : 1);
  k->g = static_cast<float*>(aligned_alloc(64, rows * k->gRow * sizeof(float)));
  k->ghn = static_cast<float*>(aligned_alloc(64, rows * k->hRow * sizeof(float)));
  // One block of 4 pointer arrays: xRows, hRows, then row pointers into g and ghn (fixed, set here).
  const size_t maxIn = k->I > k->H ? k->I : k->H;
  k->pack = static_cast<float*>(aligned_alloc(64, (maxIn + k->H) * 24 * sizeof(float)));
  k->rowBlock = static_cast<float**>(calloc(4 * rows, sizeof(float*)));
  if (!k->g || !k->ghn || !k->pack || !k->rowBlock) return false;
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
  free(k->pack);
  free(k->rowBlock);
  k->g = k->ghn = k->pack = nullptr;
  k->rowBlock = nullptr;
  k->xRows = nullptr;
  k->hRows = k->gRows = k->qRows = nullptr;
}

void gru_kernel_step(GruKernelState* k, int count, const int32_t* slots, const float* inputs, float* out) {
  if (count <= 0) return;
  for (int l = 0; l < k->L; l++) {
    for (int b = 0; b < count; b++) {
      float* slot = k->arena + static_cast<size_t>(slots[b]) * k->slotStride;
      k->hRows[b] = slot + static_cast<size_t>(l) * k->H;
      // Layer 0 reads the caller's input row; layer l reads layer l-1's state, already stepped.
      k->xRows[b] = l == 0 ? inputs + static_cast<size_t>(b) * k->I : slot + static_cast<size_t>(l - 1) * k->H;
    }
    stepLayer(k, l, count);
  }
  if (k->O > 0) stepHead(k, count, out);
}
