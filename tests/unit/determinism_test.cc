#include "repro/determinism.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "repro/digest.h"
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
