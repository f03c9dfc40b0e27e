// Which XXH3 kernel runs (xxh3_kernels.h): the widest the CPU and its OS support.
#include "util/xxh3_kernels.h"

namespace repro::internal {

// Defined by xxh3_<name>.cc, one per kernel; the vector ones on x86-64 only.
const Xxh3Kernel& xxh3_scalar();
#if defined(__x86_64__)
const Xxh3Kernel& xxh3_sse2();
const Xxh3Kernel& xxh3_avx2();
const Xxh3Kernel& xxh3_avx512();
#endif

std::vector<const Xxh3Kernel*> xxh3_kernels() {
  std::vector<const Xxh3Kernel*> kernels = {&xxh3_scalar()};
#if defined(__x86_64__)
  // __builtin_cpu_supports asks CPUID and, for AVX and AVX-512, whether the OS saves the wider
  // registers (XGETBV).
  __builtin_cpu_init();
  kernels.push_back(&xxh3_sse2());  // every x86-64 CPU has SSE2
  if (__builtin_cpu_supports("avx2")) kernels.push_back(&xxh3_avx2());
  if (__builtin_cpu_supports("avx512f")) kernels.push_back(&xxh3_avx512());
#endif
  return kernels;
}

const Xxh3Kernel& xxh3_kernel() {
  static const Xxh3Kernel& chosen = *xxh3_kernels().back();
  return chosen;
}

}  // namespace repro::internal
