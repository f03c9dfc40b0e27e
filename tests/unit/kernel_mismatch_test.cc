#include <gtest/gtest.h>

#include <map>
#include <string>

#include "repro/environment.h"

namespace repro {
namespace {

// As `repro rerun` asks: the child starts with the recorded variables.
std::vector<KernelMismatch> rerun_mismatches(const proto::Environment& recorded, const proto::Environment& here) {
  return kernel_mismatches(recorded, here, {recorded.numerics_env().begin(), recorded.numerics_env().end()});
}

std::map<std::string, KernelMismatch> by_field(const std::vector<KernelMismatch>& list) {
  std::map<std::string, KernelMismatch> out;
  for (const auto& m : list) out[m.field] = m;
  return out;
}

// This process is the "here"; a record with its own choices needs nothing.
TEST(KernelMismatchTest, ARunMadeHereMatches) {
  const auto here = capture_environment();
  EXPECT_TRUE(rerun_mismatches(here, here).empty()) << describe_kernel_mismatches(rerun_mismatches(here, here));
}

TEST(KernelMismatchTest, ARecordWithoutKernelFactsIsNotAMismatch) {
  EXPECT_TRUE(rerun_mismatches(proto::Environment(), capture_environment()).empty());
}

TEST(KernelMismatchTest, LowerRecordedLevelsAreNamedWithThePinThatMatchesThem) {
  const auto here = capture_environment();
  proto::Environment recorded = here;
  recorded.mutable_onednn()->set_effective_isa("sse41");
  recorded.mutable_libm()->set_dispatch("sse2");
  recorded.mutable_blas()->set_core("Prescott");
  const auto m = by_field(rerun_mismatches(recorded, here));
  ASSERT_TRUE(m.count("onednn.effective_isa")) << describe_kernel_mismatches(rerun_mismatches(recorded, here));
  EXPECT_EQ(m.at("onednn.effective_isa").pin, "SSE41");
  EXPECT_EQ(m.at("onednn.effective_isa").variable, "ONEDNN_MAX_CPU_ISA");
  EXPECT_EQ(m.at("onednn.effective_isa").cannot, "");
  if (here.libm().dispatch() != "sse2") {
    EXPECT_EQ(m.at("libm.dispatch").pin, "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4");
  }
  if (here.blas().implementation() == "openblas" && here.blas().dynamic_arch()) {
    EXPECT_EQ(m.at("blas.core").pin, "Prescott");
    EXPECT_EQ(m.at("blas.core").here, here.blas().core());
  }
  // Pinned in the recorded variables, a rerun here starts with the pin: no mismatch.
  (*recorded.mutable_numerics_env())["ONEDNN_MAX_CPU_ISA"] = "SSE41";
  (*recorded.mutable_numerics_env())["GLIBC_TUNABLES"] = "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4";
  const auto pinned = by_field(rerun_mismatches(recorded, here));
  EXPECT_EQ(pinned.count("onednn.effective_isa"), 0u);
  EXPECT_EQ(pinned.count("libm.dispatch"), 0u);
}

TEST(KernelMismatchTest, AHigherRecordedLevelThisCpuLacksCannotBeMatched) {
  if (__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has AVX-512";
  const auto here = capture_environment();
  proto::Environment recorded = here;
  recorded.mutable_torch()->set_cpu_capability("AVX512");
  const auto m = by_field(rerun_mismatches(recorded, here));
  ASSERT_TRUE(m.count("torch.cpu_capability"));
  EXPECT_EQ(m.at("torch.cpu_capability").pin, "avx512");
  EXPECT_EQ(m.at("torch.cpu_capability").cannot.rfind("this CPU lacks avx512f", 0), 0u)
      << m.at("torch.cpu_capability").cannot;
  EXPECT_EQ(describe_kernel_mismatches({m.at("torch.cpu_capability")}),
            "ATen CPU capability " + here.torch().cpu_capability() + " here, AVX512 in the run");
}

// A recorded ATEN_CPU_CAPABILITY this CPU cannot run is not taken for a match (torch would die
// of SIGILL), and one torch ignores (it wants lower case) is not taken either.
TEST(KernelMismatchTest, ARecordedPinThisCpuCannotRunIsAMismatch) {
  if (__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has AVX-512";
  const auto here = capture_environment();
  proto::Environment recorded = here;
  recorded.mutable_torch()->set_cpu_capability("AVX512");
  (*recorded.mutable_numerics_env())["ATEN_CPU_CAPABILITY"] = "avx512";
  auto m = by_field(rerun_mismatches(recorded, here));
  ASSERT_TRUE(m.count("torch.cpu_capability"));
  EXPECT_NE(m.at("torch.cpu_capability").cannot, "");
  recorded.mutable_torch()->set_cpu_capability("AVX2");
  (*recorded.mutable_numerics_env())["ATEN_CPU_CAPABILITY"] = "AVX2";
  m = by_field(rerun_mismatches(recorded, here));
  EXPECT_EQ(m.count("torch.cpu_capability"), here.torch().cpu_capability() == "AVX2" ? 0u : 1u);
}

// `repro check` asks with its own variables: a baseline made under a pin that this process
// does not have is a mismatch even though the baseline's variables would match it.
TEST(KernelMismatchTest, TheChildsVariablesDecide) {
  const auto here = capture_environment();
  proto::Environment recorded = here;
  recorded.mutable_onednn()->set_effective_isa("sse41");
  (*recorded.mutable_numerics_env())["ONEDNN_MAX_CPU_ISA"] = "SSE41";
  EXPECT_EQ(by_field(rerun_mismatches(recorded, here)).count("onednn.effective_isa"), 0u);
  const auto ours = by_field(kernel_mismatches(recorded, here, {}));
  ASSERT_EQ(ours.count("onednn.effective_isa"), 1u);
  EXPECT_EQ(ours.at("onednn.effective_isa").here, here.onednn().effective_isa());
}

// Another BLAS library is named, and cannot be matched: no variable picks another library.
TEST(KernelMismatchTest, AnotherBlasLibraryIsNamedAndCannotBeMatched) {
  const auto here = capture_environment();
  if (here.blas().implementation().empty()) GTEST_SKIP() << "no BLAS loaded here";
  proto::Environment recorded = here;
  const std::string other = here.blas().implementation() == "mkl" ? "openblas" : "mkl";
  recorded.mutable_blas()->set_implementation(other);
  recorded.mutable_blas()->set_core("SkylakeX");
  const auto m = by_field(rerun_mismatches(recorded, here));
  ASSERT_EQ(m.count("blas.implementation"), 1u) << describe_kernel_mismatches(rerun_mismatches(recorded, here));
  const auto& blas = m.at("blas.implementation");
  EXPECT_EQ(blas.what, "BLAS library");
  EXPECT_EQ(blas.recorded, other);
  EXPECT_EQ(blas.here, here.blas().implementation());
  EXPECT_EQ(blas.variable, "");
  EXPECT_EQ(blas.cannot, "this machine loads " + here.blas().implementation() +
                             " (the run's library must be installed and chosen for libblas.so.3)");
  EXPECT_EQ(m.count("blas.core"), 0u) << "another library's core is not comparable";
}

}  // namespace
}  // namespace repro
