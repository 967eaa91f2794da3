// AVX2/FMA sigmoid and tanh on 8 floats. Include only from a translation unit compiled for
// avx2+fma (gru_kernel.cc does it with a target pragma). The scalar reference is
// src/kernel/activations.ts (exact float64 library forms); these stay within about 4e-7 relative
// (checked against double tanh/exp by test/kernel/native-kernel.test.ts through the whole step).
#ifndef GRU_STREAM_VMATH_H
#define GRU_STREAM_VMATH_H

#include <immintrin.h>

// 1/d as the 12-bit estimate plus one Newton step (about 1e-7 relative): a true vdivps costs
// several times the FMAs around it and was the bottleneck of the activation pass.
static inline __m256 v_recip(__m256 d) {
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r);  // r + r (1 - d r)
}

// 1 / (1 + e^-x), with e^-x from a table: -x = m ln2/8 + f, |f| <= ln2/16, so
// e^-x = 2^(m>>3) * 2^((m&7)/8) * e^f. The eight 2^(j/8) come from one vpermps (it reads only the
// low 3 bits of each index, which are m mod 8), and on |f| <= 0.0434 a cubic reaches 2.6e-8
// relative where Cephes' expf needed a degree-5 polynomial on |f| <= ln2/2: four fewer FMAs per
// call on the ports the activation pass is bound by. The clamp keeps the scale a normal float: at
// |x| = 87, 1/(1+e^87) is 1.6e-38, and sigmoid(x) is 0 or 1 to float32 resolution of the state long
// before that.
static inline __m256 v_sigmoid(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(87.0f));
  // m = round(-x * 8/ln2) by the 1.5 * 2^23 trick: adding it leaves m, rounded to nearest, in the
  // low mantissa bits of t (its bits are 0x4B400000 + m), so one FMA does the scale and the rounding
  // (no vroundps, no vcvtps2dq). Exact for |m| < 2^22; here |m| <= 1005.
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  const __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(-11.5415601730f), magic);
  const __m256 m = _mm256_sub_ps(t, magic);
  // u = x + m ln2/8 = -f, with ln2/8 split in two (the first exact in 9 bits) so m * C1 is exact.
  __m256 u = _mm256_fmadd_ps(m, _mm256_set1_ps(0.086669921875f), x);
  u = _mm256_fmadd_ps(m, _mm256_set1_ps(-2.6524305213e-5f), u);
  // e^f = e^-u ~ 1 - u + c2 u^2 + c3 u^3 (relative minimax on |u| <= ln2/16 with c0, c1 held at 1, -1).
  __m256 p = _mm256_fmadd_ps(u, _mm256_set1_ps(-1.6666857898e-1f), _mm256_set1_ps(5.0006449223e-1f));
  p = _mm256_fmsub_ps(p, u, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(1.0f));
  // Scale 2^(m>>3) * 2^((m&7)/8): the table entry's exponent field is 127, so adding (m>>3) << 23 to
  // its bits multiplies it by 2^(m>>3) (t's bits >> 3 are 0x09680000 + floor(m/8); the constant part
  // is shifted out by << 23). 127 + floor(m/8) stays in 1..254 after the clamp.
  const __m256 table = _mm256_setr_ps(1.0f, 1.09050775f, 1.18920708f, 1.29683959f, 1.41421354f, 1.54221082f,
                                      1.68179286f, 1.8340081f);
  const __m256i ti = _mm256_castps_si256(t);
  const __m256 scale = _mm256_castsi256_ps(_mm256_add_epi32(
      _mm256_castps_si256(_mm256_permutevar8x32_ps(table, ti)), _mm256_slli_epi32(_mm256_srli_epi32(ti, 3), 23)));
  return v_recip(_mm256_fmadd_ps(p, scale, _mm256_set1_ps(1.0f)));
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
