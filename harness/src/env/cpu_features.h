// Private: which CPU kernels a library runs at a given level, whether this CPU can execute
// them, and what each library would choose here on its own. The one place that knows the
// levels of ATen (cpu_capability), oneDNN (ISA names), OpenBLAS (core names) and glibc's libm.
#pragma once

#include <string>
#include <vector>

namespace repro::internal {

// The CPU features that kernels of `level` execute and this CPU lacks, ", "-separated ("" when
// it has them all, or when the level is not one listed in cpu_features.cc). `library`: "aten"
// (default, avx2, avx512), "onednn" (sse41 ... avx512_core_amx) or "openblas" (prescott ...
// sapphirerapids). Case does not matter.
std::string missing_cpu_features(const std::string& library, const std::string& level);

// The levels a config may pin for `library` ("aten" or "onednn"), lowest first: what
// determinism.cpu_capability and onednn_max_cpu_isa accept besides "" (and oneDNN's "all").
std::vector<std::string> kernel_levels(const std::string& library);

// Whether every x86-64-v2 CPU (SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT) runs kernels of `level`;
// false for a level not listed in cpu_features.cc (other than ATen's "default").
bool runs_on_every_x86_64_v2(const std::string& library, const std::string& level);

// The highest ATen capability this CPU runs ("AVX512", "AVX2", "DEFAULT"). torch may pick lower
// unpinned (Debian's 1.13 picks AVX2 on an Intel Xeon with AVX-512): what a process picked is
// in its Environment (torch.cpu_capability).
std::string native_cpu_capability();

// The oneDNN ISA this CPU supports at best, as OneDnn.effective_isa spells it ("avx2",
// "avx512_core_amx"...); `cap` (an ONEDNN_MAX_CPU_ISA value, "" for none) lowers it.
std::string onednn_isa_under(const std::string& cap);

// The libm variant glibc picks on this CPU under the glibc.cpu.hwcaps mask `hwcaps`
// ("-AVX2,-FMA" clears those features; "" leaves all): "fma", "fma4" or "sse2".
std::string libm_dispatch_under(const std::string& hwcaps);
// glibc.cpu.hwcaps's value in a GLIBC_TUNABLES string ("" when absent; the last one wins).
std::string hwcaps_of_tunables(const std::string& tunables);
// `tunables` (a GLIBC_TUNABLES value) with glibc.cpu.hwcaps set to `hwcaps`, the others kept.
std::string tunables_with_hwcaps(const std::string& tunables, const std::string& hwcaps);
// The value `name` had in this process's environment when it was executed (/proc/self/environ,
// read once): what ld.so and OpenBLAS saw at load, whatever setenv() did since. "" when unset.
std::string variable_at_start(const std::string& name);

// The glibc.cpu.hwcaps mask under which glibc picks libm variant `dispatch` on a CPU that has
// it: "" for "fma", "-FMA" for "fma4", "-AVX2,-FMA,-FMA4" for "sse2".
std::string hwcaps_for_libm(const std::string& dispatch);

}  // namespace repro::internal
