// The AVX-512 GEMM path (gemm.h): 16-float zmm vectors and 32 registers, so twice the floats per
// FMA of the AVX2 path and room for larger register blocks. Packed: 6x4 (24 accumulators, 4 weight
// vectors, a broadcast: 29 of 32 registers); in place 1x8, 2x8, 3x6. Measured on W2 and W3 shapes
// (Xeon, Emerald Rapids, median of 5 x 40 steps) against 4x6, 8x3, 4x4, 5x4 and 7x3: all within
// 3 % but 8x3, 6 % slower on W2, whose 4-vector n products split 3 + 1. k chunks of 256 and 1024
// rows, and kernel chunks of 96 to 768 KB of scratch (GRU_L2_BUDGET), measured within the noise
// of the 512 and 192 KB the AVX2 path uses.
//
// Chosen at run time only on a CPU with avx512f (addon.cc); nothing here runs at load (the block
// table and the GruGemm below are constant data).
#pragma GCC target("avx512f,avx2,fma")

#include "gemm_impl.h"

GRU_VECTOR(Zmm, __m512, 16, _mm512)
extern const GruGemm gru_gemm_avx512 = gemmFor<Isa<Zmm, 6, 4, 8, 6>>("avx512");
