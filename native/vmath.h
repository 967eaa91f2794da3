// AVX2/FMA sigmoid and tanh on 8 floats. Include only from a translation unit compiled for
// avx2+fma (gru_kernel.cc does it with a target pragma). The scalar reference is
// src/kernel/activations.ts (exact float64 library forms); these stay within about 4e-7 relative
// (checked against double tanh/exp by test/kernel/native-kernel.test.ts through the whole step).
#ifndef GRU_STREAM_VMATH_H
#define GRU_STREAM_VMATH_H

#include <immintrin.h>

// e^x, Cephes' expf: x = n ln2 + f with |f| <= ln2/2, a degree-5 polynomial for e^f, 2^n from the
// exponent bits. The clamp keeps 2^n a normal float (no inf, no denormal), which costs nothing in
// sigmoid: beyond |x| = 87 it is 0 or 1 to far below float32 resolution of the state.
static inline __m256 v_exp(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  // n = round(x / ln2) by the 1.5 * 2^23 trick: adding it leaves n, rounded to nearest, in the low
  // mantissa bits, so one FMA does the multiply and the rounding, and the same bits shifted into the
  // exponent field give 2^n (no vroundps, no vcvtps2dq: two fewer ops on the activation pass's
  // critical FMA ports). Exact for |n| < 2^22; here |n| <= 127.
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  const __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), magic);
  const __m256 n = _mm256_sub_ps(t, magic);
  // ln2 split in two (C1 exact in few bits) so n*C1 is exact and f keeps its low bits.
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), x);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  // (t's bits + 127) << 23: the low 9 bits of n + 127 (1..254 after the clamp) land in the exponent.
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

// 1/d as the 12-bit estimate plus one Newton step (about 1e-7 relative): a true vdivps costs
// several times the FMAs around it and was the bottleneck of the activation pass.
static inline __m256 v_recip(__m256 d) {
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r);  // r + r (1 - d r)
}

// 1 / (1 + e^-x).
static inline __m256 v_sigmoid(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return v_recip(_mm256_add_ps(one, v_exp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// tanh as a 13/6 odd rational function on [-7.905, 7.905] (Eigen's float tanh): no exp, no
// cancellation near 0 (unlike 2*sigmoid(2x)-1; near 0 it is x * (1 - 1.3e-7)), and tanh(7.905)
// already rounds to 1 in float32.
static inline __m256 v_tanh(__m256 x) {
  const __m256 clamp = _mm256_set1_ps(7.90531110763549805f);
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_sub_ps(_mm256_setzero_ps(), clamp)), clamp);
  const __m256 x2 = _mm256_mul_ps(xc, xc);
  __m256 p = _mm256_set1_ps(-2.76076847742355e-16f);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.00018790482477e-13f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-8.60467152213735e-11f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(5.12229709037114e-08f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(1.48572235717979e-05f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(6.37261928875436e-04f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(4.89352455891786e-03f));
  p = _mm256_mul_ps(p, xc);
  __m256 q = _mm256_set1_ps(1.19825839466702e-06f);
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(1.18534705686654e-04f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(2.26843463243900e-03f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(4.89352518554385e-03f));
  return _mm256_mul_ps(p, v_recip(q));
}

#endif
