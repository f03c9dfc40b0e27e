// The avx512 XXH3 kernel (xxh3_kernels.h), compiled with -mavx512f.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* intrinsics as (maybe) uninitialized once inlined
// (avx512fintrin.h); those values are never read.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define XXH_VECTOR 3
#define REPRO_XXH3_KERNEL xxh3_avx512
#define REPRO_XXH3_NAME "avx512"
#include "util/xxh3_kernel.inc"
