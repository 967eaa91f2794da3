// Vector sigmoid and tanh, written once over a vector type M (Ymm here: AVX2/FMA, 8 floats;
// Zmm in vmath512.h: AVX-512, 16 floats) with the same per-lane arithmetic on both, so both give
// the same bits. Include only from a translation unit compiled for avx2+fma (or wider). The scalar
// reference is src/kernel/activations.ts (exact float64 library forms); these stay within about
// 4e-7 relative (checked against double tanh/exp by test/kernel/native-kernel.test.ts through the
// whole step).
//
// M provides: V, W (floats per vector), load/store/bcast/set1/zero, add/sub/mul/min/max,
// fma (a*b+c)/fms (a*b-c)/fnma (c-a*b), and three width-specific pieces: recip12 (the 12-bit
// vrcpps estimate), pow2(t) (the sigmoid's scale, below) and loadTail/storeTail (lanes [0, n)).
#ifndef GRU_STREAM_VMATH_H
#define GRU_STREAM_VMATH_H

#include <immintrin.h>

// The operations every vector type has under one intrinsics prefix (_mm256, _mm512).
#define GRU_VECTOR_OPS(P)                                                      \
  static V load(const float* p) { return P##_loadu_ps(p); }                    \
  static void store(float* p, V v) { P##_storeu_ps(p, v); }                    \
  static V set1(float x) { return P##_set1_ps(x); }                            \
  static V bcast(const float* p) { return P##_set1_ps(*p); }                   \
  static V zero() { return P##_setzero_ps(); }                                 \
  static V add(V a, V b) { return P##_add_ps(a, b); }                          \
  static V sub(V a, V b) { return P##_sub_ps(a, b); }                         \
  static V mul(V a, V b) { return P##_mul_ps(a, b); }                          \
  static V min(V a, V b) { return P##_min_ps(a, b); }                          \
  static V max(V a, V b) { return P##_max_ps(a, b); }                          \
  static V fma(V a, V b, V c) { return P##_fmadd_ps(a, b, c); }                \
  static V fms(V a, V b, V c) { return P##_fmsub_ps(a, b, c); }                \
  static V fnma(V a, V b, V c) { return P##_fnmadd_ps(a, b, c); }

namespace {

// AVX2/FMA: 8 floats. Also what gru_train.cc's v_sigmoid / v_tanh run on.
struct Ymm {
  typedef __m256 V;
  static constexpr int W = 8;
  GRU_VECTOR_OPS(_mm256)
  static V recip12(V d) { return _mm256_rcp_ps(d); }
  // 2^(m>>3) * 2^((m&7)/8) from t (see vm_sigmoid): one vpermps reads the table entry by the low 3
  // bits of each lane's index, and adding (m>>3) << 23 to its bits scales it.
  static V pow2(V t) {
    const V table = _mm256_setr_ps(1.0f, 1.09050775f, 1.18920708f, 1.29683959f, 1.41421354f, 1.54221082f,
                                   1.68179286f, 1.8340081f);
    const __m256i ti = _mm256_castps_si256(t);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(_mm256_permutevar8x32_ps(table, ti)),
                                                _mm256_slli_epi32(_mm256_srli_epi32(ti, 3), 23)));
  }
  static __m256i mask(int n) {  // lanes [0, n) set, n in 1..8
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V loadTail(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void storeTail(float* p, int n, V v) { _mm256_maskstore_ps(p, mask(n), v); }
};

// 1/d as the 12-bit estimate plus one Newton step (about 1e-7 relative): a true division costs
// several times the FMAs around it and was the bottleneck of the activation pass.
template <class M>
inline typename M::V vm_recip(typename M::V d) {
  const typename M::V r = M::recip12(d);
  return M::fma(r, M::fnma(d, r, M::set1(1.0f)), r);  // r + r (1 - d r)
}

// 1 / (1 + e^-x), with e^-x from a table: -x = m ln2/8 + f, |f| <= ln2/16, so
// e^-x = 2^(m>>3) * 2^((m&7)/8) * e^f. The eight 2^(j/8) come from one table lookup, and on
// |f| <= 0.0434 a cubic reaches 2.6e-8 relative where Cephes' expf needed a degree-5 polynomial on
// |f| <= ln2/2: four fewer FMAs per call on the ports the activation pass is bound by. The clamp
// keeps the scale a normal float: at |x| = 87, 1/(1+e^87) is 1.6e-38, and sigmoid(x) is 0 or 1 to
// float32 resolution of the state long before that.
template <class M>
inline typename M::V vm_sigmoid(typename M::V x) {
  typedef typename M::V V;
  x = M::min(M::max(x, M::set1(-87.0f)), M::set1(87.0f));
  // m = round(-x * 8/ln2) by the 1.5 * 2^23 trick: adding it leaves m, rounded to nearest, in the
  // low mantissa bits of t (its bits are 0x4B400000 + m), so one FMA does the scale and the rounding
  // (no vroundps, no vcvtps2dq). Exact for |m| < 2^22; here |m| <= 1005.
  const V magic = M::set1(12582912.0f);
  const V t = M::fma(x, M::set1(-11.5415601730f), magic);
  const V m = M::sub(t, magic);
  // u = x + m ln2/8 = -f, with ln2/8 split in two (the first exact in 9 bits) so m * C1 is exact.
  V u = M::fma(m, M::set1(0.086669921875f), x);
  u = M::fma(m, M::set1(-2.6524305213e-5f), u);
  // e^f = e^-u ~ 1 - u + c2 u^2 + c3 u^3 (relative minimax on |u| <= ln2/16 with c0, c1 held at 1, -1).
  V p = M::fma(u, M::set1(-1.6666857898e-1f), M::set1(5.0006449223e-1f));
  p = M::fms(p, u, M::set1(1.0f));
  p = M::fma(p, u, M::set1(1.0f));
  // Scale: the table entry's exponent field is 127, so adding (m>>3) << 23 to its bits multiplies it
  // by 2^(m>>3) (t's bits >> 3 are 0x09680000 + floor(m/8); the constant part is shifted out by
  // << 23). 127 + floor(m/8) stays in 1..254 after the clamp.
  return vm_recip<M>(M::fma(p, M::pow2(t), M::set1(1.0f)));
}

// tanh as a 13/6 odd rational function on [-7.905, 7.905] (Eigen's float tanh): no exp, no
// cancellation near 0 (unlike 2*sigmoid(2x)-1; near 0 it is x * (1 - 1.3e-7)), and tanh(7.905)
// already rounds to 1 in float32.
template <class M>
inline typename M::V vm_tanh(typename M::V x) {
  typedef typename M::V V;
  const V clamp = M::set1(7.90531110763549805f);
  const V xc = M::min(M::max(x, M::sub(M::zero(), clamp)), clamp);
  const V x2 = M::mul(xc, xc);
  V p = M::set1(-2.76076847742355e-16f);
  p = M::fma(p, x2, M::set1(2.00018790482477e-13f));
  p = M::fma(p, x2, M::set1(-8.60467152213735e-11f));
  p = M::fma(p, x2, M::set1(5.12229709037114e-08f));
  p = M::fma(p, x2, M::set1(1.48572235717979e-05f));
  p = M::fma(p, x2, M::set1(6.37261928875436e-04f));
  p = M::fma(p, x2, M::set1(4.89352455891786e-03f));
  p = M::mul(p, xc);
  V q = M::set1(1.19825839466702e-06f);
  q = M::fma(q, x2, M::set1(1.18534705686654e-04f));
  q = M::fma(q, x2, M::set1(2.26843463243900e-03f));
  q = M::fma(q, x2, M::set1(4.89352518554385e-03f));
  return M::mul(p, vm_recip<M>(q));
}

inline __m256 v_sigmoid(__m256 x) { return vm_sigmoid<Ymm>(x); }
inline __m256 v_tanh(__m256 x) { return vm_tanh<Ymm>(x); }

}  // namespace

#endif
