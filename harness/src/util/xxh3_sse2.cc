// The sse2 XXH3 kernel (xxh3_kernels.h) (x86-64 only).
#define XXH_VECTOR 1
#define REPRO_XXH3_KERNEL xxh3_sse2
#define REPRO_XXH3_NAME "sse2"
#include "util/xxh3_kernel.inc"
