// The AVX-512 vector path (simd.h): 16-float zmm vectors and 32 registers, so twice the floats per
// FMA of the AVX2 path and room for larger register blocks. Packed: 6x4 (24 accumulators, 4 weight
// vectors, a broadcast: 29 of 32 registers); in place 1x8, 2x8, 3x6. Measured on W2 and W3 shapes
// (Xeon, Emerald Rapids, median of 5 x 40 steps) against 4x6, 8x3, 4x4, 5x4 and 7x3: all within
// 3 % but 8x3, 6 % slower on W2, whose 4-vector n products split 3 + 1. k chunks of 256 and 1024
// rows, and kernel chunks of 96 to 768 KB of scratch (GRU_L2_BUDGET), measured within the noise
// of the 512 and 192 KB the AVX2 path uses.
//
// The activation passes run on zmm too, with the same bits as the AVX2 ones (vmath512.h): in a
// standalone loop 75 -> 58 ns per H=64 row.
//
// Chosen at run time only on a CPU with avx512f (addon.cc); nothing here runs at load (the block
// table and the GruSimd below are constant data).
#pragma GCC target("avx512f,avx2,fma")
// GCC 12 warns "'__Y' may be used uninitialized" inside its own avx512fintrin.h (the undefined
// pass-through of unmasked intrinsics such as _mm512_max_ps); nothing here reads an undefined lane.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "gates_impl.h"
#include "gemm_impl.h"
#include "vmath512.h"

typedef Isa<Zmm, 6, 4, 8, 6> Avx512;
extern const GruSimd gru_simd_avx512 = {"avx512", Avx512::W, Avx512::kPackMR, pack<Avx512>, run<Avx512>,
                                        gatesAfter<Zmm>, gatesBeforeRz<Zmm>, gatesBeforeN<Zmm>};
