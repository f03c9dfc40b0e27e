// The avx2 XXH3 kernel (xxh3_kernels.h), compiled with -mavx2.
#define XXH_VECTOR 2
#define REPRO_XXH3_KERNEL xxh3_avx2
#define REPRO_XXH3_NAME "avx2"
#include "util/xxh3_kernel.inc"
