// The native GRU step: a register-blocked micro-GEMM over batch rows plus a separate activation
// pass, on the packed, transposed weights of src/kernel/layout.ts. Same math as js-kernel.ts,
// in float32 with FMA (the tests hold it to 1e-5 of the float64 JS kernel).
//
// Only this file is compiled for AVX2/FMA (the pragma below); addon.cc stays baseline x86-64 so
// loading the addon and its cpuSupported() check cannot themselves fault on an older CPU.
#pragma GCC target("avx2,fma")

#include "gru_kernel.h"

#include <stdlib.h>
#include <string.h>

#include "vmath.h"

namespace {

// Widest column block (in 8-float vectors) per row count, so MR x NV accumulators plus the NV
// weight vectors and a broadcast fit the 16 ymm registers: 4x3, 3x4, 2x6, 1x8.
constexpr int kMaxNv[5] = {0, 8, 6, 4, 3};

// acc[r][.] += sum_k src_r[k] * w[k*S ..]: NV weight loads, MR broadcasts, MR*NV FMAs per k.
// Inlined into block() for the input and the state operands alike (the code is the same; only the
// operand rows differ), so the compiler keeps acc in registers across both.
template <int MR, int NV>
__attribute__((always_inline)) inline void accumulate(__m256 (&acc)[MR][NV], const float* const* src, int kn,
                                                      const float* w, size_t S) {
  for (int k = 0; k < kn; k++, w += S) {
    __m256 wv[NV];
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) wv[v] = _mm256_loadu_ps(w + 8 * v);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const __m256 xb = _mm256_broadcast_ss(src[r] + k);
      #pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(xb, wv[v], acc[r][v]);
    }
  }
}

// out[r][0 .. 8NV) = init + sum_k x_r[k] * wx[k*S ..] + sum_k h_r[k] * wh[k*S ..], where init is the
// bias (or zero) when `resume` is false and the partial sums already in out when it is true.
// Rows are reached through pointers (inputs, arena slots or scratch: no gather copy); weight rows
// are gate columns S floats apart, so each k is NV vector loads, MR broadcasts and MR*NV FMAs.
// Every output element is bias + its products in k order, one FMA at a time, whatever MR, NV or
// the k chunking (a partial sum stored and reloaded is the same float32): so a row's result is
// bit-identical whichever block shape, panel or batch position computed it.
template <int MR, int NV>
void block(const float* const* xr, int kx, const float* wx, const float* const* hr, int kh,
           const float* wh, const float* bias, size_t S, float* const* out, size_t col, bool resume) {
  __m256 acc[MR][NV];
  if (resume) {
    #pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
      #pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_loadu_ps(out[r] + col + 8 * v);
  } else {
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
      const __m256 b = bias ? _mm256_loadu_ps(bias + 8 * v) : _mm256_setzero_ps();
      #pragma GCC unroll 8
      for (int r = 0; r < MR; r++) acc[r][v] = b;
    }
  }
  accumulate<MR, NV>(acc, xr, kx, wx, S);
  accumulate<MR, NV>(acc, hr, kh, wh, S);
  #pragma GCC unroll 8
  for (int r = 0; r < MR; r++)
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(out[r] + col + 8 * v, acc[r][v]);
}

typedef void (*BlockFn)(const float* const*, int, const float*, const float* const*, int, const float*,
                        const float*, size_t, float* const*, size_t, bool);

// kBlocks[MR][NV]: every shape gemm() can ask for (NV <= kMaxNv[MR]); the rest stay null.
#define GRU_ROW(MR) {nullptr, block<MR, 1>, block<MR, 2>, block<MR, 3>, \
  MR <= 3 ? block<MR <= 3 ? MR : 1, 4> : nullptr, MR <= 2 ? block<MR <= 2 ? MR : 1, 5> : nullptr, \
  MR <= 2 ? block<MR <= 2 ? MR : 1, 6> : nullptr, MR == 1 ? block<1, 7> : nullptr, MR == 1 ? block<1, 8> : nullptr}
const BlockFn kBlocks[5][9] = {{nullptr}, GRU_ROW(1), GRU_ROW(2), GRU_ROW(3), GRU_ROW(4)};
#undef GRU_ROW

// Column panels as even as possible (16 vectors at most 3 wide: 3,3,3,3,2,2 rather than
// 3,3,3,3,3,1): a 1-vector block does one FMA per broadcast and runs at a fraction of the wide rate.
inline int panelCount(int vecs, int maxNv) { return (vecs + maxNv - 1) / maxNv; }
inline int panelWidth(int vecs, int panels, int p, int v0) { return (vecs - v0 + (panels - p) - 1) / (panels - p); }

// Weight rows per k chunk of a packed panel. Sized first to keep a 4x3 panel chunk in L1 (192 rows,
// 18 KB), but each chunk restarts every row block (accumulators stored and reloaded) and a panel
// streamed from L2 seems not to starve the block: it needs 96 bytes per 12 FMAs, well under L2's
// bandwidth. Measured on W3 (2 cores AMD EPYC, 32 KB L1): its second layer (512 rows, 48 KB) unsplit
// ran about 2.5 % faster than in 3 chunks of 192 (best of 41 x 16 alternating runs; which of the
// two effects pays is not measured). Longer products are still split.
constexpr int kMaxChunk = 512;

// Small batches (fewer than 4 rows): no row block would reuse a panel, so read the weights in
// place, in panels as wide as the row count allows (one series: 8 vectors per panel, which hides the
// FMA latency of a single row's accumulators).
void gemmStrided(GruKernelState* k, int count, const float* const* xr, int kx, const float* wx,
                 const float* const* hr, int kh, const float* wh, const float* bias, float* const* out,
                 size_t c0, int width) {
  const size_t S = k->gateStride;
  const int maxNv = kMaxNv[count];
  const int vecs = (width + 7) / 8;
  const int panels = panelCount(vecs, maxNv);
  for (int p = 0, v0 = 0; p < panels; p++) {
    const int nv = panelWidth(vecs, panels, p, v0);
    const size_t wc = 8 * static_cast<size_t>(v0);
    kBlocks[count][nv](xr, kx, wx + wc, hr, kh, wh + wc, bias ? bias + wc : nullptr, S, out, c0 + wc, false);
    v0 += nv;
  }
}

// Columns [c0, c0+8*vecs) of out rows = bias + X Wx + Hs Wh for all `count` rows, from a packed
// product (see GruPackedProduct). Column panels outside, k chunks, then row blocks inside: one
// chunk of one panel is reused by every row block while it sits in L1. Full vectors are stored past
// the product's real width (up to 7 floats): the scratch rows have room for it and the activation
// passes never read those columns.
void gemmPacked(int count, const float* const* xr, const float* const* hr, const GruPackedProduct& P,
                const float* bias, float* const* out, size_t c0) {
  const int K = P.kx + P.kh;
  const int chunks = (K + kMaxChunk - 1) / kMaxChunk;
  const int panels = panelCount(P.vecs, 3);
  const float* panel = P.data;
  const float* xs[4];
  const float* hs[4];
  for (int p = 0, v0 = 0; p < panels; p++) {
    const int nv = panelWidth(P.vecs, panels, p, v0);
    const size_t wc = 8 * static_cast<size_t>(v0), ps = 8 * static_cast<size_t>(nv);
    const float* bcol = bias ? bias + wc : nullptr;
    for (int c = 0, k0 = 0; c < chunks; c++) {
      const int k1 = k0 + (K - k0 + (chunks - c) - 1) / (chunks - c);
      // This chunk's rows [k0, k1) of the concatenated [x part | h part].
      const int x0 = k0 < P.kx ? k0 : P.kx, x1 = k1 < P.kx ? k1 : P.kx;
      const int h0 = k0 - x0, h1 = k1 - x1;  // offsets into the h part
      const float* pw = panel + static_cast<size_t>(k0) * ps;
      const float* ph = panel + static_cast<size_t>(P.kx + h0) * ps;
      const BlockFn f4 = kBlocks[4][nv];
      int b = 0;
      for (; b + 4 <= count; b += 4) {
        for (int r = 0; r < 4; r++) xs[r] = xr[b + r] + x0, hs[r] = hr[b + r] + h0;
        f4(xs, x1 - x0, pw, hs, h1 - h0, ph, bcol, ps, out + b, c0 + wc, c > 0);
      }
      if (b < count) {
        const int m = count - b;
        for (int r = 0; r < m; r++) xs[r] = xr[b + r] + x0, hs[r] = hr[b + r] + h0;
        kBlocks[m][nv](xs, x1 - x0, pw, hs, h1 - h0, ph, bcol, ps, out + b, c0 + wc, c > 0);
      }
      k0 = k1;
    }
    panel += static_cast<size_t>(K) * ps;
    v0 += nv;
  }
}

// One product: packed when at least one full row block shares each panel, in place otherwise.
void gemm(GruKernelState* k, int count, const float* const* xr, const float* const* hr, const GruPackedProduct& P,
          const float* wx, const float* wh, const float* bias, float* const* out, size_t c0) {
  if (count >= 4) gemmPacked(count, xr, hr, P, bias, out, c0);
  else gemmStrided(k, count, xr, P.kx, wx, hr, P.kh, wh, bias, out, c0, 8 * P.vecs);
}

// Copies columns [0, 8*vecs) of rows [0, kx) of wx then rows [0, kh) of wh (stride S) into P's panels.
size_t packProduct(GruPackedProduct* P, float* dst, const float* wx, int kx, const float* wh, int kh, int width, size_t S) {
  P->kx = kx, P->kh = kh, P->vecs = (width + 7) / 8, P->data = dst;
  const int panels = panelCount(P->vecs, 3);
  float* d = dst;
  for (int p = 0, v0 = 0; p < panels; p++) {
    const int nv = panelWidth(P->vecs, panels, p, v0);
    const size_t wc = 8 * static_cast<size_t>(v0);
    for (int i = 0; i < kx + kh; i++) {
      const float* src = (i < kx ? wx + static_cast<size_t>(i) * S : wh + static_cast<size_t>(i - kx) * S) + wc;
      memcpy(d, src, 8 * nv * sizeof(float));
      d += 8 * nv;
    }
    v0 += nv;
  }
  return static_cast<size_t>(d - dst);
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
  // Gate columns (layout.ts gates): r at 0, z at Z, n at N; r and z are one product of width N.
  const size_t Z = k->gateZ, N = k->gateN;

  // r and z: input and hidden products share the accumulators (only their sum is ever used).
  const GruPackedProduct* P = k->products + 3 * l;
  gemm(k, count, xr, hr, P[0], w + at.wx, w + at.wh, w + at.bx, g, 0);
  if (k->resetAfter) {
    // n needs W_in x + b_in and W_hn h + b_hn apart: r multiplies only the second.
    gemm(k, count, xr, hr, P[1], w + at.wx + N, w + at.wh, w + at.bx + N, g, N);
    gemm(k, count, xr, hr, P[2], w + at.wx, w + at.wh + N, w + at.bhn, q, 0);
    for (int b = 0; b < count; b++) {
      const float* gb = g[b];
      const float* qb = q[b];
      float* h = k->hRows[b];
      // Two vectors a turn (same per-lane arithmetic as one): two independent exp/rational chains
      // in one basic block keep both FMA pipes busy where one chain waits on its own latency.
      int j = 0;
      for (; j + 16 <= H; j += 16) {
        const __m256 r0 = v_sigmoid(_mm256_loadu_ps(gb + j)), r1 = v_sigmoid(_mm256_loadu_ps(gb + j + 8));
        const __m256 z0 = v_sigmoid(_mm256_loadu_ps(gb + Z + j)), z1 = v_sigmoid(_mm256_loadu_ps(gb + Z + j + 8));
        const __m256 n0 = v_tanh(_mm256_fmadd_ps(r0, _mm256_loadu_ps(qb + j), _mm256_loadu_ps(gb + N + j)));
        const __m256 n1 = v_tanh(_mm256_fmadd_ps(r1, _mm256_loadu_ps(qb + j + 8), _mm256_loadu_ps(gb + N + j + 8)));
        _mm256_storeu_ps(h + j, _mm256_fmadd_ps(z0, _mm256_sub_ps(_mm256_loadu_ps(h + j), n0), n0));
        _mm256_storeu_ps(h + j + 8, _mm256_fmadd_ps(z1, _mm256_sub_ps(_mm256_loadu_ps(h + j + 8), n1), n1));
      }
      for (; j < H; j += 8) {
        const __m256 r = v_sigmoid(_mm256_loadu_ps(gb + j));
        const __m256 z = v_sigmoid(_mm256_loadu_ps(gb + Z + j));
        const __m256 n = v_tanh(_mm256_fmadd_ps(r, _mm256_loadu_ps(qb + j), _mm256_loadu_ps(gb + N + j)));
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
        _mm256_storeu_ps(gb + Z + j, v_sigmoid(_mm256_loadu_ps(gb + Z + j)));
        _mm256_storeu_ps(rh + j, _mm256_mul_ps(r, loadState(h, j, H)));
      }
    }
    // The z stores above may spill up to 7 floats into n's columns; this product overwrites them.
    gemm(k, count, xr, const_cast<const float* const*>(q), P[1], w + at.wx + N, w + at.wh + N, w + at.bx + N, g, N);
    for (int b = 0; b < count; b++) {
      const float* gb = g[b];
      float* h = k->hRows[b];
      for (int j = 0; j < H; j += 8) {
        const __m256 n = v_tanh(_mm256_loadu_ps(gb + N + j));
        const __m256 hv = loadState(h, j, H);
        storeState(h, j, H, _mm256_fmadd_ps(_mm256_loadu_ps(gb + Z + j), _mm256_sub_ps(hv, n), n));
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
      const float* wrow = gru_head_row(k, o);
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
  // Packed products: per layer (in + H) rows of 2H (r, z) and H (n) columns, plus H rows of H columns
  // for reset-after's separate W_hn h; each rounded up to whole vectors.
  const size_t hv = (static_cast<size_t>(k->H) + 7) / 8 * 8, h2v = (2 * static_cast<size_t>(k->H) + 7) / 8 * 8;
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
    dst += packProduct(&P[0], dst, wx, at.inSize, wh, H, static_cast<int>(N), S);
    if (k->resetAfter) {
      dst += packProduct(&P[1], dst, wx + N, at.inSize, wh, 0, H, S);
      dst += packProduct(&P[2], dst, wx, 0, wh + N, H, H, S);
    } else {
      dst += packProduct(&P[1], dst, wx + N, at.inSize, wh + N, H, H, S);
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

#ifndef GRU_L2_BUDGET
#define GRU_L2_BUDGET (192 * 1024)
#endif

void gru_kernel_step(GruKernelState* k, int count, const int32_t* slots, const float* inputs, float* out) {
  if (count <= 0) return;
  // Rows go through every layer and the head in chunks whose gate scratch (g and ghn rows) stays in
  // L2: stepping the whole batch layer by layer wrote 1 MB of W2 pre-activations and read it back
  // from L3 in the activation pass. A chunk is a multiple of 4 rows so only the last one has a tail;
  // the arithmetic of a row does not depend on its chunk (see block()).
  const size_t rowBytes = (k->gRow + k->hRow) * sizeof(float);
  int chunk = static_cast<int>(GRU_L2_BUDGET / rowBytes) & ~3;
  if (chunk < 4) chunk = 4;
  for (int c0 = 0; c0 < count; c0 += chunk) {
    const int n = count - c0 < chunk ? count - c0 : chunk;
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
