// The AVX-512 vector type of vmath.h (16 floats). Include only from a translation unit compiled
// for avx512f (simd_avx512.cc). Its width-specific pieces are chosen so each lane computes exactly
// what Ymm's does: the same 12-bit reciprocal estimate and the same table.
#ifndef GRU_STREAM_VMATH512_H
#define GRU_STREAM_VMATH512_H

#include "vmath.h"

namespace {

struct Zmm {
  typedef __m512 V;
  static constexpr int W = 16;
  GRU_VECTOR_OPS(_mm512)
  // AVX-512's own estimate (vrcp14ps) is a different approximation, so each half goes through the
  // 256-bit vrcpps the AVX2 path uses: two more shuffles per reciprocal, and the same bits.
  static V recip12(V d) {
    const __m256 lo = _mm256_rcp_ps(_mm512_castps512_ps256(d));
    const __m256 hi = _mm256_rcp_ps(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(d), 1)));
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
  }
  // vpermps on zmm reads 4 index bits: the 8 entries twice over give the low-3-bit lookup of Ymm.
  static V pow2(V t) {
    const V table = _mm512_setr_ps(1.0f, 1.09050775f, 1.18920708f, 1.29683959f, 1.41421354f, 1.54221082f,
                                   1.68179286f, 1.8340081f, 1.0f, 1.09050775f, 1.18920708f, 1.29683959f,
                                   1.41421354f, 1.54221082f, 1.68179286f, 1.8340081f);
    const __m512i ti = _mm512_castps_si512(t);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(_mm512_permutexvar_ps(ti, table)),
                                                _mm512_slli_epi32(_mm512_srli_epi32(ti, 3), 23)));
  }
  static __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1); }  // n in 1..16
  static V loadTail(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void storeTail(float* p, int n, V v) { _mm512_mask_storeu_ps(p, mask(n), v); }
};

}  // namespace

#endif
