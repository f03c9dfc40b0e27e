#include "env/cpu_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "repro/environment.h"

namespace repro::internal {
namespace {

bool has_fma_and_avx2() { return __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2"); }

TEST(CpuFeaturesTest, GlibcTunablesAreReadAndRewrittenLikeGlibc) {
  EXPECT_EQ(hwcaps_of_tunables(""), "");
  EXPECT_EQ(hwcaps_of_tunables("glibc.malloc.check=1"), "");
  EXPECT_EQ(hwcaps_of_tunables("glibc.malloc.check=1:glibc.cpu.hwcaps=-AVX2,-FMA"), "-AVX2,-FMA");
  EXPECT_EQ(hwcaps_of_tunables("glibc.cpu.hwcaps=-AVX:glibc.cpu.hwcaps=-FMA"), "-FMA") << "the last one wins";
  EXPECT_EQ(tunables_with_hwcaps("", "-FMA"), "glibc.cpu.hwcaps=-FMA");
  EXPECT_EQ(tunables_with_hwcaps("glibc.malloc.check=1:glibc.cpu.hwcaps=-AVX", "-FMA"),
            "glibc.malloc.check=1:glibc.cpu.hwcaps=-FMA");
}

TEST(CpuFeaturesTest, LibmVariantFollowsGlibcsIfuncRule) {
  // The portable mask leaves only the SSE2 variants, on every CPU.
  EXPECT_EQ(libm_dispatch_under("-AVX2,-FMA,-FMA4"), "sse2");
  EXPECT_EQ(hwcaps_for_libm("sse2"), "-AVX2,-FMA,-FMA4");
  EXPECT_EQ(libm_dispatch_under(hwcaps_for_libm("sse2")), "sse2");
  // Unmasked, the FMA variants run exactly where FMA and AVX2 are.
  EXPECT_EQ(libm_dispatch_under("") == "fma", has_fma_and_avx2());
  EXPECT_EQ(libm_dispatch_under("-AVX2") == "fma", false) << "the FMA variants need AVX2 too";
  EXPECT_EQ(hwcaps_for_libm("fma"), "");
}

TEST(CpuFeaturesTest, LevelsNeedTheirInstructions) {
  EXPECT_EQ(missing_cpu_features("aten", "default"), "");
  EXPECT_EQ(missing_cpu_features("aten", "AVX2").empty(), has_fma_and_avx2()) << "case does not matter";
  EXPECT_EQ(missing_cpu_features("openblas", "nehalem").empty(),
            __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt"));
  EXPECT_EQ(missing_cpu_features("openblas", "no-such-core"), "") << "unknown levels are checked after the fact";
  if (!__builtin_cpu_supports("avx512f")) {
    EXPECT_EQ(missing_cpu_features("onednn", "avx512_core").rfind("avx512f", 0), 0u);
  }
}

// The levels a config may pin are the table's, lowest first; each is the limit it names.
TEST(CpuFeaturesTest, ConfigLevelsAreTheTablesLowestFirst) {
  EXPECT_EQ(kernel_levels("aten"), (std::vector<std::string>{"default", "avx2", "avx512"}));
  const auto isas = kernel_levels("onednn");
  EXPECT_EQ(isas, (std::vector<std::string>{"sse41", "avx", "avx2", "avx2_vnni", "avx512_core", "avx512_core_vnni",
                                            "avx512_core_bf16", "avx512_core_amx"}));
  for (const auto& isa : isas) {
    if (missing_cpu_features("onednn", isa).empty()) {
      EXPECT_EQ(onednn_isa_under(isa), isa);
    }
  }
  EXPECT_TRUE(kernel_levels("openblas").empty()) << "any core name; checked when the library loads";
}

TEST(CpuFeaturesTest, NativeChoicesAgreeWithWhatTheLibrariesChoseInThisProcess) {
  const auto env = capture_environment();
  if (env.numerics_env().count("ATEN_CPU_CAPABILITY") == 0) {
    // torch picks at most what the CPU has; it may pick lower (Debian's 1.13 picks AVX2 on an
    // Intel Xeon with AVX-512), which is why kernel_mismatches asks this process's choice.
    const std::vector<std::string> order{"DEFAULT", "AVX2", "AVX512"};
    const auto rank = [&](const std::string& c) { return std::find(order.begin(), order.end(), c) - order.begin(); };
    EXPECT_LE(rank(env.torch().cpu_capability()), rank(native_cpu_capability())) << env.torch().cpu_capability();
    EXPECT_LT(rank(env.torch().cpu_capability()), 3) << env.torch().cpu_capability();
  }
  if (env.numerics_env().count("ONEDNN_MAX_CPU_ISA") == 0 && !env.onednn().effective_isa().empty()) {
    EXPECT_EQ(onednn_isa_under(""), env.onednn().effective_isa());
  }
  EXPECT_EQ(onednn_isa_under("SSE41"), "sse41");
  EXPECT_EQ(libm_dispatch_under(env.libm().hwcaps()), env.libm().dispatch());
}

}  // namespace
}  // namespace repro::internal
