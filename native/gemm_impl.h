// The micro-GEMM of simd.h, written once over an ISA description A (see simd_avx2.cc):
//   A::V, A::W                 vector type and its floats
//   A::load/store/bcast/fma/zero   unaligned load and store, broadcast of one float, a*b+c
//                              (A derives from a vector type of vmath.h: Ymm, Zmm)
//   A::kStrideNv[m]            widest column block (vectors) for m = 1..3 rows, read in place
//   A::kPackMR, A::kPackNV     row block and widest panel of the packed path
//   A::kMaxChunk               weight rows per k chunk of a packed panel
// Instantiate it only in a translation unit compiled for A's ISA. Everything here has internal
// linkage (anonymous namespace): each ISA's unit keeps its own copy, so the linker can never hand
// the AVX2 path a helper compiled for AVX-512.
#ifndef GRU_STREAM_GEMM_IMPL_H
#define GRU_STREAM_GEMM_IMPL_H

#include <stddef.h>
#include <string.h>

#include <array>
#include <utility>

#include "simd.h"

namespace {

// acc[r][.] += sum_k src_r[k] * w[k*S ..]: NV weight loads, MR broadcasts, MR*NV FMAs per k.
// Inlined into block() for the input and the state operands alike (the code is the same; only the
// operand rows differ), so the compiler keeps acc in registers across both.
template <class A, int MR, int NV>
__attribute__((always_inline)) inline void accumulate(typename A::V (&acc)[MR][NV], const float* const* src, int kn,
                                                      const float* w, size_t S) {
  for (int k = 0; k < kn; k++, w += S) {
    typename A::V wv[NV];
    #pragma GCC unroll 16
    for (int v = 0; v < NV; v++) wv[v] = A::load(w + A::W * v);
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const typename A::V xb = A::bcast(src[r] + k);
      #pragma GCC unroll 16
      for (int v = 0; v < NV; v++) acc[r][v] = A::fma(xb, wv[v], acc[r][v]);
    }
  }
}

// out[r][0 .. W*NV) = init + sum_k x_r[k] * wx[k*S ..] + sum_k h_r[k] * wh[k*S ..], where init is the
// bias (or zero) when `resume` is false and the partial sums already in out when it is true.
// Rows are reached through pointers (inputs, arena slots or scratch: no gather copy); weight rows
// are gate columns S floats apart, so each k is NV vector loads, MR broadcasts and MR*NV FMAs.
// Every output element is bias + its products in k order, one FMA at a time, whatever MR, NV, the
// vector width or the k chunking (a partial sum stored and reloaded is the same float32): so a row's
// result is bit-identical whichever block shape, panel, batch position or ISA computed it.
template <class A, int MR, int NV>
void block(const float* const* xr, int kx, const float* wx, const float* const* hr, int kh, const float* wh,
           const float* bias, size_t S, float* const* out, size_t col, bool resume) {
  typename A::V acc[MR][NV];
  if (resume) {
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
      #pragma GCC unroll 16
      for (int v = 0; v < NV; v++) acc[r][v] = A::load(out[r] + col + A::W * v);
  } else {
    #pragma GCC unroll 16
    for (int v = 0; v < NV; v++) {
      const typename A::V b = bias ? A::load(bias + A::W * v) : A::zero();
      #pragma GCC unroll 16
      for (int r = 0; r < MR; r++) acc[r][v] = b;
    }
  }
  accumulate<A, MR, NV>(acc, xr, kx, wx, S);
  accumulate<A, MR, NV>(acc, hr, kh, wh, S);
  #pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
    #pragma GCC unroll 16
    for (int v = 0; v < NV; v++) A::store(out[r] + col + A::W * v, acc[r][v]);
}

typedef void (*BlockFn)(const float* const*, int, const float*, const float* const*, int, const float*,
                        const float*, size_t, float* const*, size_t, bool);

// Blocks<A>::fn[MR][NV]: every shape run() can ask for (in place: MR <= 3 and NV <= kStrideNv[MR];
// packed: MR <= kPackMR and NV <= kPackNV); the rest stay null. Built at compile time: a static
// constructor in an AVX-512 unit would run (and fault) at load on a CPU without it.
template <class A>
struct Blocks {
  static constexpr int kRows = A::kPackMR > 3 ? A::kPackMR : 3;
  static constexpr int kCols = A::kStrideNv[1] > A::kPackNV ? A::kStrideNv[1] : A::kPackNV;
  template <int MR, int NV>
  static constexpr BlockFn pick() {
    if constexpr (MR > 0 && NV > 0 && ((MR <= 3 && NV <= A::kStrideNv[MR]) || (MR <= A::kPackMR && NV <= A::kPackNV)))
      return &block<A, MR, NV>;
    else
      return nullptr;
  }
  template <int MR, size_t... NV>
  static constexpr std::array<BlockFn, kCols + 1> row(std::index_sequence<NV...>) {
    return {{pick<MR, static_cast<int>(NV)>()...}};
  }
  template <size_t... MR>
  static constexpr std::array<std::array<BlockFn, kCols + 1>, kRows + 1> table(std::index_sequence<MR...>) {
    return {{row<static_cast<int>(MR)>(std::make_index_sequence<kCols + 1>())...}};
  }
  static constexpr std::array<std::array<BlockFn, kCols + 1>, kRows + 1> fn = table(std::make_index_sequence<kRows + 1>());
};

// Column panels as even as possible (16 vectors at most 3 wide: 3,3,3,3,2,2 rather than
// 3,3,3,3,3,1): a 1-vector block does one FMA per broadcast and runs at a fraction of the wide rate.
inline int panelCount(int vecs, int maxNv) { return (vecs + maxNv - 1) / maxNv; }
inline int panelWidth(int vecs, int panels, int p, int v0) { return (vecs - v0 + (panels - p) - 1) / (panels - p); }

// Small batches (fewer than 4 rows): no row block would reuse a panel, so read the weights in
// place, in panels as wide as the row count allows (one series: 8 vectors per panel, which hides the
// FMA latency of a single row's accumulators).
template <class A>
void gemmStrided(int count, const float* const* xr, int kx, const float* wx, const float* const* hr, int kh,
                 const float* wh, const float* bias, size_t S, float* const* out, size_t c0, int vecs) {
  const int panels = panelCount(vecs, A::kStrideNv[count]);
  for (int p = 0, v0 = 0; p < panels; p++) {
    const int nv = panelWidth(vecs, panels, p, v0);
    const size_t wc = static_cast<size_t>(A::W) * v0;
    Blocks<A>::fn[count][nv](xr, kx, wx + wc, hr, kh, wh + wc, bias ? bias + wc : nullptr, S, out, c0 + wc, false);
    v0 += nv;
  }
}

// Columns [c0, c0 + W*vecs) of out rows = bias + X Wx + Hs Wh for all `count` rows, from a packed
// product (see GruPackedProduct). Column panels outside, k chunks, then row blocks inside: one
// chunk of one panel is reused by every row block while it sits in cache. Full vectors are stored
// past the product's real width (up to W-1 floats): the scratch rows have room for it and the
// activation passes never read those columns.
template <class A>
void gemmPacked(int count, const float* const* xr, const float* const* hr, const GruPackedProduct& P,
                const float* bias, float* const* out, size_t c0) {
  constexpr int MR = A::kPackMR;
  const int K = P.kx + P.kh;
  const int chunks = (K + A::kMaxChunk - 1) / A::kMaxChunk;
  const int panels = panelCount(P.vecs, A::kPackNV);
  const float* panel = P.data;
  const float* xs[MR];
  const float* hs[MR];
  for (int p = 0, v0 = 0; p < panels; p++) {
    const int nv = panelWidth(P.vecs, panels, p, v0);
    const size_t wc = static_cast<size_t>(A::W) * v0, ps = static_cast<size_t>(A::W) * nv;
    const float* bcol = bias ? bias + wc : nullptr;
    for (int c = 0, k0 = 0; c < chunks; c++) {
      const int k1 = k0 + (K - k0 + (chunks - c) - 1) / (chunks - c);
      // This chunk's rows [k0, k1) of the concatenated [x part | h part].
      const int x0 = k0 < P.kx ? k0 : P.kx, x1 = k1 < P.kx ? k1 : P.kx;
      const int h0 = k0 - x0, h1 = k1 - x1;  // offsets into the h part
      const float* pw = panel + static_cast<size_t>(k0) * ps;
      const float* ph = panel + static_cast<size_t>(P.kx + h0) * ps;
      const BlockFn full = Blocks<A>::fn[MR][nv];
      int b = 0;
      for (; b + MR <= count; b += MR) {
        for (int r = 0; r < MR; r++) xs[r] = xr[b + r] + x0, hs[r] = hr[b + r] + h0;
        full(xs, x1 - x0, pw, hs, h1 - h0, ph, bcol, ps, out + b, c0 + wc, c > 0);
      }
      if (b < count) {
        const int m = count - b;
        for (int r = 0; r < m; r++) xs[r] = xr[b + r] + x0, hs[r] = hr[b + r] + h0;
        Blocks<A>::fn[m][nv](xs, x1 - x0, pw, hs, h1 - h0, ph, bcol, ps, out + b, c0 + wc, c > 0);
      }
      k0 = k1;
    }
    panel += static_cast<size_t>(K) * ps;
    v0 += nv;
  }
}

// One product: packed when at least one full row block of 4 shares each panel, in place otherwise.
template <class A>
void run(int count, const float* const* xr, const float* const* hr, const GruPackedProduct& P, const float* wx,
         const float* wh, const float* bias, size_t S, float* const* out, size_t c0) {
  if (count >= 4) gemmPacked<A>(count, xr, hr, P, bias, out, c0);
  else gemmStrided<A>(count, xr, P.kx, wx, hr, P.kh, wh, bias, S, out, c0, P.vecs);
}

template <class A>
size_t pack(GruPackedProduct* P, float* dst, const float* wx, int kx, const float* wh, int kh, int width, size_t S) {
  P->kx = kx, P->kh = kh, P->vecs = (width + A::W - 1) / A::W, P->data = dst;
  const int panels = panelCount(P->vecs, A::kPackNV);
  float* d = dst;
  for (int p = 0, v0 = 0; p < panels; p++) {
    const int nv = panelWidth(P->vecs, panels, p, v0);
    const size_t wc = static_cast<size_t>(A::W) * v0;
    for (int i = 0; i < kx + kh; i++) {
      const float* src = (i < kx ? wx + static_cast<size_t>(i) * S : wh + static_cast<size_t>(i - kx) * S) + wc;
      memcpy(d, src, static_cast<size_t>(A::W) * nv * sizeof(float));
      d += static_cast<size_t>(A::W) * nv;
    }
    v0 += nv;
  }
  return static_cast<size_t>(d - dst);
}

// An ISA description: a vector type of vmath.h plus its register blocks (see the header).
template <class Vec, int PackMR, int PackNV, int StrideNv2, int StrideNv3>
struct Isa : Vec {
  static constexpr int kStrideNv[4] = {0, 8, StrideNv2, StrideNv3};
  static constexpr int kPackMR = PackMR, kPackNV = PackNV;
  // Sized first to keep a 4x3 AVX2 panel chunk in L1 (192 rows, 18 KB), but each chunk restarts
  // every row block (accumulators stored and reloaded) and a panel streamed from L2 seems not to
  // starve the block: it needs 96 bytes per 12 FMAs, well under L2's bandwidth. Measured on W3 (2
  // cores AMD EPYC, 32 KB L1): its second layer (512 rows, 48 KB) unsplit ran about 2.5 % faster
  // than in 3 chunks of 192 (best of 41 x 16 alternating runs). Longer products are still split.
  static constexpr int kMaxChunk = 512;
};

}  // namespace

#endif
