// XXH3-128 with the widest vector unit this CPU has, chosen once at run time.
//
// XXH3's definition does not depend on the vector width: every kernel computes the same hash
// of the same bytes (tests/unit/digest_test.cc checks each against the scalar one), they differ
// only in speed. Each kernel is xxhash's own code (xxhash.h, inlined) compiled for one target:
// xxh3_kernel.inc, included by xxh3_<name>.cc with the compiler flags for that target (see
// harness/CMakeLists.txt). digest.cc is the one user; bench_overhead measures each kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace repro::internal {

struct Hash128 {
  std::uint64_t low64 = 0, high64 = 0;
};

// The streaming state every kernel works on: room and alignment for xxhash's XXH3_state_t,
// which is the same structure in every kernel (each one static_asserts that it fits).
struct alignas(64) Xxh3State {
  unsigned char bytes[640];
};

// One implementation of XXH3-128: one-shot, and streaming over an Xxh3State.
struct Xxh3Kernel {
  const char* name;  // "scalar", "sse2", "avx2", "avx512"
  Hash128 (*hash)(const void* data, std::size_t size);
  void (*reset)(Xxh3State* state);
  void (*update)(Xxh3State* state, const void* data, std::size_t size);
  Hash128 (*digest)(const Xxh3State* state);
};

// The kernel digests use: the widest this CPU and its OS support (AVX-512, AVX2, SSE2 on
// x86-64; the portable one elsewhere), chosen on first use.
const Xxh3Kernel& xxh3_kernel();

// Every kernel this CPU can run, the portable scalar one first (for tests and benchmarks).
std::vector<const Xxh3Kernel*> xxh3_kernels();

}  // namespace repro::internal
