#include "repro/config.h"

#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

TEST(ConfigTest, ParseErrorsNameFileLineAndColumn) {
  EXPECT_EQ(testing::error_message([] {
              parse_config("seed: 1\ntrain {\n  steps: abc\n}\n", "x.textproto");
            }).rfind("x.textproto:3:10: ", 0),
            0u)
      << testing::error_message([] { parse_config("seed: 1\ntrain {\n  steps: abc\n}\n", "x.textproto"); });
  const std::string unknown = testing::error_message([] { parse_config("seed: 1\nfrobnicate: 2\n", "x.textproto"); });
  EXPECT_EQ(unknown.rfind("x.textproto:2:", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("frobnicate"), std::string::npos) << unknown;
}

TEST(ConfigTest, ResolutionMakesEveryFieldExplicit) {
  proto::RunConfig c = parse_config("model { mlp { } }\ntrain { steps: 5 }\n", "x");
  resolve_config(&c);
  EXPECT_TRUE(c.has_seed());
  EXPECT_EQ(c.train().steps(), 5);
  EXPECT_TRUE(c.train().has_batch_size());
  EXPECT_EQ(c.train().batch_size(), 64);
  EXPECT_TRUE(c.optimizer().has_lr());
  EXPECT_DOUBLE_EQ(c.optimizer().lr(), 0.01);
  EXPECT_EQ(c.determinism().intra_op_threads(), 1);
  EXPECT_TRUE(c.data().has_split_fraction());
  ASSERT_EQ(c.model().mlp().hidden_size(), 2);
  EXPECT_EQ(c.model().mlp().hidden(0), 256);
  EXPECT_FALSE(c.model().has_cnn()) << "only the chosen model is resolved";
  // The printed resolved config shows defaults too.
  const std::string text = config_to_text(c);
  EXPECT_NE(text.find("batch_size: 64"), std::string::npos) << text;
  EXPECT_NE(text.find("intra_op_threads: 1"), std::string::npos) << text;
}

TEST(ConfigTest, OverridesSetScalarsListsStringsAndOneofMembers) {
  proto::RunConfig c = parse_config("model { mlp { hidden: 8 } }\n", "x");
  apply_override(&c, "optimizer.lr=0.25");
  apply_override(&c, "train.steps=7");
  apply_override(&c, "data.path=/tmp/some dir");
  apply_override(&c, "model.mlp.hidden=64,32,16");
  apply_override(&c, "determinism.intra_op_threads=2");
  apply_override(&c, "data.shuffle=false");
  EXPECT_DOUBLE_EQ(c.optimizer().lr(), 0.25);
  EXPECT_EQ(c.train().steps(), 7);
  EXPECT_EQ(c.data().path(), "/tmp/some dir");
  ASSERT_EQ(c.model().mlp().hidden_size(), 3);
  EXPECT_EQ(c.model().mlp().hidden(2), 16);
  EXPECT_FALSE(c.data().shuffle());
  apply_override(&c, "model.cnn.dropout=0.5");
  EXPECT_TRUE(c.model().has_cnn());
  EXPECT_FALSE(c.model().has_mlp());
}

TEST(ConfigTest, BadOverridesNameTheField) {
  proto::RunConfig c;
  EXPECT_NE(testing::error_message([&] { apply_override(&c, "optimizer.lrr=1"); }).find("optimizer has no field 'lrr'"),
            std::string::npos);
  EXPECT_NE(testing::error_message([&] {
              apply_override(&c, "optimizer.lr=fast");
            }).find("--set optimizer.lr: 'fast' is not a valid double"),
            std::string::npos);
  EXPECT_NE(testing::error_message([&] { apply_override(&c, "train=3"); }).find("train is a section"),
            std::string::npos);
  EXPECT_NE(testing::error_message([&] { apply_override(&c, "seed.x=3"); }).find("seed is a value"), std::string::npos);
  EXPECT_NE(testing::error_message([&] { apply_override(&c, "novalue"); }).find("expected path.to.field=value"),
            std::string::npos);
}

struct Invalid {
  std::string name;
  std::string override_;
  std::string expected;
};
// Test names carry the case; print it instead of the struct's bytes.
inline void PrintTo(const Invalid& c, std::ostream* os) { *os << c.name; }

class ConfigValidationTest : public ::testing::TestWithParam<Invalid> {};

TEST_P(ConfigValidationTest, NamesTheField) {
  std::vector<std::string> overrides = {GetParam().override_};
  const std::string err =
      testing::error_message([&] { load_config(testing::config_path("mlp_synthetic.textproto"), overrides); });
  EXPECT_NE(err.find(GetParam().expected), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigValidationTest,
    ::testing::Values(Invalid{"ZeroLr", "optimizer.lr=0", "optimizer.lr: must be > 0 (got 0)"},
                      Invalid{"NegativeLr", "optimizer.lr=-1", "optimizer.lr: must be > 0 (got -1)"},
                      Invalid{"ZeroBatch", "train.batch_size=0", "train.batch_size: must be > 0"},
                      Invalid{"ZeroSteps", "train.steps=0", "train.steps: must be > 0"},
                      Invalid{"SplitOne", "data.split_fraction=1", "data.split_fraction: must be in (0, 1)"},
                      Invalid{"SplitZero", "data.split_fraction=0", "data.split_fraction: must be in (0, 1)"},
                      Invalid{"Threads", "determinism.intra_op_threads=0", "determinism.intra_op_threads"},
                      Invalid{"Optimizer", "optimizer.name=lion", "optimizer.name: unknown value 'lion'"},
                      Invalid{"Capability", "determinism.cpu_capability=avx9",
                              "determinism.cpu_capability: unknown value 'avx9' (expected one of \"\", avx2, avx512, "
                              "default)"},
                      Invalid{"OnednnIsa", "determinism.onednn_max_cpu_isa=avx512",
                              "determinism.onednn_max_cpu_isa: unknown value 'avx512' (expected one of \"\", all, avx, "
                              "avx2, avx2_vnni, avx512_core, avx512_core_amx, avx512_core_bf16, avx512_core_vnni, "
                              "sse41)"},
                      Invalid{"MinLr", "optimizer.min_lr=5", "optimizer.min_lr: must be in [0, optimizer.lr)"},
                      Invalid{"Source", "data.source=imagenet", "data.source: unknown value 'imagenet'"},
                      Invalid{"OnNonFinite", "train.on_nonfinite=ignore",
                              "train.on_nonfinite: unknown value 'ignore' (expected one of stop, warn)"}),
    [](const ::testing::TestParamInfo<Invalid>& info) { return info.param.name; });

TEST(ConfigTest, MissingDataFileIsNamed) {
  const std::string err = testing::error_message(
      [] { load_config(testing::config_path("mlp_fashion_mnist.textproto"), {"data.path=/nonexistent/fm"}); });
  EXPECT_NE(err.find("/nonexistent/fm/train-images-idx3-ubyte.gz"), std::string::npos) << err;
}

// An unreadable config names the file and why; a directory is not read as an empty config.
TEST(ConfigTest, UnreadableConfigFileIsAnInputErrorWithTheReason) {
  const auto kind_and_message = [](const std::string& path) {
    try {
      load_config(path, {});
    } catch (const Error& e) {
      return std::make_pair(e.kind(), std::string(e.what()));
    }
    return std::make_pair(ErrorKind::kInternal, std::string("(no error)"));
  };
  EXPECT_EQ(
      kind_and_message("/nonexistent/x.textproto"),
      std::make_pair(ErrorKind::kInput,
                     std::string("/nonexistent/x.textproto: cannot read config file: No such file or directory")));
  testing::TempDir dir;
  EXPECT_EQ(kind_and_message(dir.path().string()),
            std::make_pair(ErrorKind::kInput, dir.path().string() + ": cannot read config file: Is a directory"));
}

TEST(ConfigTest, DigestIsStableAndSensitive) {
  proto::RunConfig a = parse_config("seed: 1\nmodel { mlp {} }\n", "x");
  resolve_config(&a);
  proto::RunConfig b = a;
  EXPECT_EQ(config_digest(a), config_digest(b));
  b.mutable_optimizer()->set_lr(0.02);
  EXPECT_NE(config_digest(a), config_digest(b));
}

TEST(ConfigTest, ParamsOverridesSetAnyNameAsText) {
  proto::RunConfig c = parse_config("params { key: \"lr\" value: \"0.5\" }\n", "x");
  apply_override(&c, "params.lr=0.01");
  apply_override(&c, "params.d.lr=2e-4");
  apply_override(&c, "params.warmup-steps=10");
  apply_override(&c, "params.expr=a=b");
  apply_override(&c, "params._empty=");
  ASSERT_EQ(c.params_size(), 5);
  EXPECT_EQ(c.params().at("lr"), "0.01");
  EXPECT_EQ(c.params().at("d.lr"), "2e-4");
  EXPECT_EQ(c.params().at("warmup-steps"), "10");
  EXPECT_EQ(c.params().at("expr"), "a=b");
  EXPECT_EQ(c.params().at("_empty"), "");
  resolve_config(&c);  // leaves the params as they are
  EXPECT_EQ(c.params_size(), 5);
  EXPECT_EQ(c.params().at("lr"), "0.01");
}

TEST(ConfigTest, BadParamNamesAreUsageErrorsNamingTheAssignment) {
  proto::RunConfig c;
  for (const std::string bad : {"params.=1", "params=1", "params.9x=1", "params.a b=1", "params.lr!=1"}) {
    const Error e = testing::thrown_error([&] { apply_override(&c, bad); });
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << bad;
    EXPECT_EQ(std::string(e.what()).rfind("--set " + bad + ": '", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("' is not a parameter name"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c.params_size(), 0);
  proto::RunConfig file = load_config(testing::config_path("mlp_synthetic.textproto"), {"params.lr=0.01"});
  file.mutable_params()->insert({"bad name", "1"});
  EXPECT_EQ(testing::error_message([&] { validate_config(file, "x.textproto"); }),
            "x.textproto: params: not a parameter name (got \"bad name\")");
}

// The tolerance rule is the same wherever a tolerance is given; the check section of a config
// follows it as --rtol does (a run with check.rtol=-1 would make every later compare fail).
TEST(ConfigTest, CheckTolerancesFollowTheOneRule) {
  const std::string path = testing::config_path("mlp_synthetic.textproto");
  EXPECT_EQ(testing::error_message([&] { load_config(path, {"check.rtol=-1"}); }),
            path + ": check.rtol: must be a finite number >= 0 (got -1)");
  EXPECT_EQ(testing::error_message([&] { load_config(path, {"check.atol=nan"}); }),
            path + ": check.atol: must be a finite number >= 0 (got nan)");
  EXPECT_EQ(testing::error_message([&] { load_config(path, {"check.atol=inf"}); }),
            path + ": check.atol: must be a finite number >= 0 (got inf)");
  EXPECT_EQ(testing::error_message([&] { load_config(path, {"check.from_step=-1"}); }),
            path + ": check.from_step: must be >= 0 (got -1)");
  EXPECT_EQ(load_config(path, {"check.rtol=0.001", "check.from_step=3"}).check().from_step(), 3);
  EXPECT_EQ(testing::thrown_error([] { validate_tolerance("--rtol", -0.5); }).kind(), ErrorKind::kUsage);
  EXPECT_EQ(testing::error_message([] { validate_tolerance("--rtol", -0.5); }),
            "--rtol: must be a finite number >= 0 (got -0.5)");
}

TEST(ConfigTest, ParamsInTextAndDigest) {
  proto::RunConfig a = parse_config("seed: 1\nmodel { mlp {} }\n", "x");
  resolve_config(&a);
  proto::RunConfig b = a;
  apply_override(&a, "params.lr=0.01");
  apply_override(&a, "params.width=64");
  apply_override(&b, "params.width=64");
  apply_override(&b, "params.lr=0.01");
  EXPECT_EQ(config_digest(a), config_digest(b));  // insertion order does not matter
  const std::string text = config_to_text(a);
  EXPECT_NE(text.find("params {\n  key: \"lr\"\n  value: \"0.01\"\n}\nparams {\n  key: \"width\""), std::string::npos)
      << text;
  EXPECT_EQ(config_digest(parse_config(text, "round trip")), config_digest(a));
  apply_override(&b, "params.lr=0.010");  // the same number, other text: another config
  EXPECT_NE(config_digest(a), config_digest(b));
}

}  // namespace
}  // namespace repro
