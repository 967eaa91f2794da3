// The AVX2/FMA GEMM path (gemm.h): 8-float ymm vectors, 16 registers. Register blocks so that
// MR x NV accumulators plus the NV weight vectors and a broadcast fit: 4x3 on packed panels; in
// place 1x8 (one series: 8 independent accumulators hide the FMA latency), 2x6 and 3x4. Also the
// path an AVX-512 machine runs under GRU_STREAM_NATIVE_ISA=avx2.
#pragma GCC target("avx2,fma")

#include "gemm_impl.h"

GRU_VECTOR(Ymm, __m256, 8, _mm256)
extern const GruGemm gru_gemm_avx2 = gemmFor<Isa<Ymm, 4, 3, 6, 4>>("avx2");
