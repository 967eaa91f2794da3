// The activation passes of a GRU step, written once over a vector type A of vmath.h (Ymm, Zmm):
// from the gate pre-activations the products left in the kernel's scratch rows (g, ghn) to the new
// state, in place in the arena. Same per-lane arithmetic on every width, so every path gives the
// same bits. Instantiate only in a translation unit compiled for A's ISA (simd_avx2.cc,
// simd_avx512.cc).
#ifndef GRU_STREAM_GATES_IMPL_H
#define GRU_STREAM_GATES_IMPL_H

#include "gru_kernel.h"
#include "vmath.h"

namespace {

// Arena rows are read and written with masks at the tail: the next layer's state (or the next slot,
// or the end of the buffer) starts right after H floats. Scratch rows have room for whole vectors.
template <class A>
inline typename A::V loadState(const float* p, int j, int H) {
  return H - j >= A::W ? A::load(p + j) : A::loadTail(p + j, H - j);
}
template <class A>
inline void storeState(float* p, int j, int H, typename A::V v) {
  if (H - j >= A::W) A::store(p + j, v);
  else A::storeTail(p + j, H - j, v);
}

// h = (1-z) n + z h with r, z = sigmoid(g_r, g_z), n = tanh(g_n + r * q), q = W_hn h + b_hn.
template <class A>
inline typename A::V gruAfter(const float* gb, const float* qb, const float* h, int j, int H, size_t Z, size_t N) {
  const typename A::V r = vm_sigmoid<A>(A::load(gb + j));
  const typename A::V z = vm_sigmoid<A>(A::load(gb + Z + j));
  const typename A::V n = vm_tanh<A>(A::fma(r, A::load(qb + j), A::load(gb + N + j)));
  return A::fma(z, A::sub(loadState<A>(h, j, H), n), n);
}

// Reset after the product (PyTorch): the products are all done; one pass per row. Two vectors a turn
// (same per-lane arithmetic as one): two independent exp/rational chains in one basic block keep
// both FMA pipes busy where one chain waits on its own latency.
template <class A>
void gatesAfter(GruKernelState* k, int count) {
  const int H = k->H;
  const size_t Z = k->gateZ, N = k->gateN;
  for (int b = 0; b < count; b++) {
    const float* gb = k->gRows[b];
    const float* qb = k->qRows[b];
    float* h = k->hRows[b];
    int j = 0;
    for (; j + 2 * A::W <= H; j += 2 * A::W) {
      const typename A::V h0 = gruAfter<A>(gb, qb, h, j, H, Z, N);
      const typename A::V h1 = gruAfter<A>(gb, qb, h, j + A::W, H, Z, N);
      A::store(h + j, h0);
      A::store(h + j + A::W, h1);
    }
    for (; j < H; j += A::W) storeState<A>(h, j, H, gruAfter<A>(gb, qb, h, j, H, Z, N));
  }
}

// Reset before the product, first half: r * h must exist before W_hn meets it, so activate r and z,
// keep z in place of its pre-activation and write r * h to the ghn rows. The z stores may spill up
// to W-1 floats into n's columns; the n product overwrites them.
template <class A>
void gatesBeforeRz(GruKernelState* k, int count) {
  const int H = k->H;
  const size_t Z = k->gateZ;
  for (int b = 0; b < count; b++) {
    float* gb = k->gRows[b];
    float* rh = k->qRows[b];
    const float* h = k->hRows[b];
    for (int j = 0; j < H; j += A::W) {
      const typename A::V r = vm_sigmoid<A>(A::load(gb + j));
      A::store(gb + Z + j, vm_sigmoid<A>(A::load(gb + Z + j)));
      A::store(rh + j, A::mul(r, loadState<A>(h, j, H)));
    }
  }
}

// Reset before, second half: n = tanh(g_n) (the n product ran over [x, r*h]), h = (1-z) n + z h.
template <class A>
void gatesBeforeN(GruKernelState* k, int count) {
  const int H = k->H;
  const size_t Z = k->gateZ, N = k->gateN;
  for (int b = 0; b < count; b++) {
    const float* gb = k->gRows[b];
    float* h = k->hRows[b];
    for (int j = 0; j < H; j += A::W) {
      const typename A::V n = vm_tanh<A>(A::load(gb + N + j));
      storeState<A>(h, j, H, A::fma(A::load(gb + Z + j), A::sub(loadState<A>(h, j, H), n), n));
    }
  }
}

}  // namespace

#endif
