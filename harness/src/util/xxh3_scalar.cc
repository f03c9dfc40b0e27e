// The scalar XXH3 kernel (xxh3_kernels.h).
#define XXH_VECTOR 0
#define REPRO_XXH3_KERNEL xxh3_scalar
#define REPRO_XXH3_NAME "scalar"
#include "util/xxh3_kernel.inc"
