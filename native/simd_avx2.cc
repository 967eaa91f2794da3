// The AVX2/FMA vector path (simd.h): 8-float ymm vectors, 16 registers. Register blocks so that
// MR x NV accumulators plus the NV weight vectors and a broadcast fit: 4x3 on packed panels; in
// place 1x8 (one series: 8 independent accumulators hide the FMA latency), 2x6 and 3x4. Also the
// path an AVX-512 machine runs under GRU_STREAM_NATIVE_ISA=avx2.
#pragma GCC target("avx2,fma")

#include "gates_impl.h"
#include "gemm_impl.h"

typedef Isa<Ymm, 4, 3, 6, 4> Avx2;
extern const GruSimd gru_simd_avx2 = {"avx2", Avx2::W, Avx2::kPackMR, pack<Avx2>, run<Avx2>,
                                      gatesAfter<Ymm>, gatesBeforeRz<Ymm>, gatesBeforeN<Ymm>};
