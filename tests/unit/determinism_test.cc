#include "repro/determinism.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <map>

#include "repro/config.h"
#include "repro/digest.h"
#include "repro/environment.h"
#include "repro/error.h"

namespace repro {
namespace {

// Golden values computed by an independent implementation of the documented derivation
// (FNV-1a 64 of the purpose, XOR the master seed, one SplitMix64 step, 63 bits), in Python.
TEST(DeterminismTest, DerivedSeedsMatchTheDocumentedAlgorithm) {
  EXPECT_EQ(derive_seed(42, "torch.default"), 2264936424036237913ULL);
  EXPECT_EQ(derive_seed(42, "data.split"), 8697851327644504752ULL);
  EXPECT_EQ(derive_seed(0, ""), 4864305418079633200ULL);
  EXPECT_EQ(derive_seed(20261125, "data.shuffle/epoch/0"), 5982534555684402158ULL);
  EXPECT_EQ(derive_seed(20261125, "data.shuffle/epoch/1"), 3813268210388673334ULL);
}

TEST(DeterminismTest, DrawnSeedsAreNonZero63BitAndVary) {
  const auto a = draw_seed(), b = draw_seed();
  EXPECT_NE(a, 0u);
  EXPECT_LT(a, 1ULL << 63);
  EXPECT_NE(a, b);
}

TEST(DeterminismTest, MissingPinsNamesTheVariablesToSet) {
  proto::DeterminismConfig config;
  EXPECT_TRUE(missing_pins(config).empty());
  unsetenv("ONEDNN_MAX_CPU_ISA");
  config.set_onednn_max_cpu_isa("avx2");
  const auto pins = missing_pins(config);
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins.at("ONEDNN_MAX_CPU_ISA"), "avx2");
  // A pin that is not in place is refused, never silently ignored.
  try {
    apply_determinism(config, 1);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("ONEDNN_MAX_CPU_ISA=avx2"), std::string::npos) << e.what();
  }
}

TEST(DeterminismTest, ApplySetsThreadsAlgorithmsAndSeedsTheDefaultGenerator) {
  proto::DeterminismConfig config;
  config.set_deterministic_algorithms(true);
  config.set_intra_op_threads(1);
  config.set_inter_op_threads(1);
  proto::Environment env;
  const auto applied = apply_determinism(config, 42, &env);
  EXPECT_TRUE(applied.deterministic_algorithms());
  EXPECT_EQ(applied.intra_op_threads(), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_EQ(applied.inter_op_threads(), 1);
  EXPECT_FALSE(applied.cudnn_benchmark());
  EXPECT_FALSE(applied.tf32_allowed());
  EXPECT_EQ(applied.variables_set().at("OMP_NUM_THREADS"), "1");
  EXPECT_EQ(env.threads().intra_op(), 1);
  EXPECT_EQ(applied.cpu_capability(), env.torch().cpu_capability());
  const at::Tensor first = at::randn({8});
  apply_determinism(config, 42);
  EXPECT_TRUE(at::equal(first, at::randn({8}))) << "same master seed, same draws";
  apply_determinism(config, 43);
  EXPECT_FALSE(at::equal(first, at::randn({8})));
}

TEST(DeterminismTest, PortableResolvesEveryKernelPinToTheX8664V2Level) {
  proto::RunConfig config;
  config.mutable_determinism()->set_portable(true);
  resolve_config(&config);
  const auto& d = config.determinism();
  EXPECT_EQ(d.cpu_capability(), "default");
  EXPECT_EQ(d.onednn_max_cpu_isa(), "sse41");
  EXPECT_EQ(d.blas_coretype(), "nehalem");
  EXPECT_EQ(d.glibc_hwcaps(), "-AVX2,-FMA,-FMA4");
  config.mutable_model()->mutable_mlp();
  config.mutable_data()->set_source("synthetic");
  EXPECT_NO_THROW(validate_config(config, "cfg"));
  // A pin that contradicts the switch is refused, naming both.
  config.mutable_determinism()->set_cpu_capability("avx2");
  try {
    validate_config(config, "cfg");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cfg: determinism.cpu_capability: determinism.portable pins it to 'default'; drop one of the two "
              "(got 'avx2')");
  }
}

TEST(DeterminismTest, MissingPinsPutsTheBlasCoreAndLibmMaskInTheEnvironment) {
  unsetenv("OPENBLAS_CORETYPE");
  setenv("GLIBC_TUNABLES", "glibc.malloc.check=1:glibc.cpu.hwcaps=-AVX", 1);
  proto::DeterminismConfig config;
  config.set_blas_coretype("nehalem");
  config.set_glibc_hwcaps("-AVX2,-FMA,-FMA4");
  const auto pins = missing_pins(config);
  unsetenv("GLIBC_TUNABLES");
  ASSERT_EQ(pins.size(), 2u);
  EXPECT_EQ(pins.at("OPENBLAS_CORETYPE"), "nehalem");
  // Other tunables are kept; the hwcaps mask is replaced, not appended to.
  EXPECT_EQ(pins.at("GLIBC_TUNABLES"), "glibc.malloc.check=1:glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4");
  // Both are read when the process is loaded: set since, they are still missing.
  setenv("OPENBLAS_CORETYPE", "nehalem", 1);
  setenv("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4", 1);
  EXPECT_EQ(missing_pins(config).size(), 2u) << "set after the start, not in effect";
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("GLIBC_TUNABLES");
}

// OpenBLAS forced to a core this CPU cannot execute dies of SIGILL at its first sgemm (seen:
// OPENBLAS_CORETYPE=SkylakeX on an AMD EPYC); the pin is refused before that.
TEST(DeterminismTest, MissingPinsRefusesAKernelLevelThisCpuLacks) {
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd")) {
    GTEST_SKIP() << "this CPU runs every OpenBLAS core reprotorch knows";
  }
  proto::DeterminismConfig config;
  config.set_blas_coretype("SkylakeX");
  try {
    missing_pins(config);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_EQ(
        std::string(e.what()).rfind("determinism.blas_coretype: 'SkylakeX' requested but this CPU lacks avx512", 0), 0u)
        << e.what();
  }
}

TEST(DeterminismTest, PortabilityCheckNamesEveryUnpinnedKernelChoice) {
  const proto::Environment env = capture_environment();
  proto::DeterminismConfig unpinned;
  const auto open = check_portability(unpinned, env);
  EXPECT_FALSE(open.portable());
  std::map<std::string, std::string> status;
  for (const auto& item : open.items()) status[item.setting()] = item.status();
  EXPECT_EQ(status.at("ATen CPU capability"), "varies");
  EXPECT_EQ(status.at("oneDNN ISA"), "varies");
  EXPECT_EQ(status.at("libm variant"), "varies");
  EXPECT_EQ(status.at("library versions"), "note");
  if (env.blas().implementation() == "openblas") {
    EXPECT_EQ(status.at("OpenBLAS core"), "varies");
  }

  proto::RunConfig config;
  config.mutable_determinism()->set_portable(true);
  resolve_config(&config);
  const auto pinned = check_portability(config.determinism(), env);
  for (const auto& item : pinned.items()) {
    EXPECT_TRUE(item.status() == "pinned" || item.status() == "note") << item.setting() << ": " << item.status();
  }
  EXPECT_TRUE(pinned.portable()) << format_portability(pinned);
  config.mutable_determinism()->set_onednn_max_cpu_isa("avx2");
  const auto limited = check_portability(config.determinism(), env);
  EXPECT_FALSE(limited.portable());
  EXPECT_NE(format_portability(limited).find("limited  oneDNN ISA"), std::string::npos) << format_portability(limited);

  // What pins and what does not, library by library.
  auto status_of = [&](const proto::DeterminismConfig& d, const std::string& setting) {
    const auto check = check_portability(d, env);
    for (const auto& item : check.items()) {
      if (item.setting() == setting) return item.status();
    }
    return std::string("(absent)");
  };
  proto::DeterminismConfig d;
  d.set_glibc_hwcaps("-FMA,-FMA4");
  EXPECT_EQ(status_of(d, "libm variant"), "pinned");
  d.set_glibc_hwcaps("-AVX512F");
  EXPECT_EQ(status_of(d, "libm variant"), "varies") << "masks nothing libm looks at";
  d.set_onednn_max_cpu_isa("all");
  EXPECT_EQ(status_of(d, "oneDNN ISA"), "varies") << "no cap at all";
  d.set_cpu_capability("avx2");
  EXPECT_EQ(status_of(d, "ATen CPU capability"), "limited");
  // Core names are OpenBLAS's, in any case.
  proto::RunConfig named;
  named.mutable_determinism()->set_portable(true);
  named.mutable_determinism()->set_blas_coretype("Nehalem");
  resolve_config(&named);
  EXPECT_NO_THROW(validate_determinism(named.determinism(), "cfg"));
}

// Golden digest of a known tensor, independent of layout.
TEST(DeterminismTest, TensorDigestIsGoldenAndLayoutIndependent) {
  const at::Tensor t = at::arange(12, at::kFloat).reshape({3, 4});
  const std::string golden = digest_tensor(t);
  // xxhsum -H2 of b"Float" + int64 LE {2, 3, 4} + float32 LE 0..11: the documented byte order.
  EXPECT_EQ(golden, "0b700cdf7fd2f55899cf5cacb6b2da06");
  EXPECT_EQ(digest_tensor(t.t().contiguous().t()), golden) << "non-contiguous view of the same values";
  EXPECT_NE(digest_tensor(t.reshape({4, 3})), golden) << "shape is part of the digest";
  EXPECT_NE(digest_tensor(t.to(at::kDouble)), golden) << "dtype is part of the digest";
}

}  // namespace
}  // namespace repro
