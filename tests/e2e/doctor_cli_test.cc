// `repro doctor`: the built-in models pass in a fresh process; a learning rate that explodes
// fails the finite check by name (exit 1); bad input is exit 2 with one line.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "proto/doctor.pb.h"
#include "testutil.h"

namespace repro {
namespace {

using ::testing::HasSubstr;
using testing::run_repro;

using testing::config_path;

proto::DoctorReport parse_report(const std::string& json) {
  proto::DoctorReport report;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &report).ok()) << json;
  return report;
}

const proto::DoctorCheck* find_check(const proto::DoctorReport& report, const std::string& name) {
  for (const auto& c : report.checks()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

TEST(DoctorCliTest, MlpOnSyntheticDataPassesEveryCheck) {
  const auto r = run_repro({"doctor", "--config", config_path("mlp_synthetic.textproto")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("doctor: mlp: all 6 checks passed (seed 42)\n"));
  for (const char* name : {"smoke", "params_updated", "loss_decreases", "can_fit", "finite", "dead_units"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("\nPASS ") + name + ": ")) << name;
  }
}

TEST(DoctorCliTest, CnnOnFashionMnistPassesEveryCheckInJson) {
  const auto r = run_repro({"doctor", "--config", config_path("demo.textproto"), "--set", "data.sample_limit=1000",
                            "--set", "determinism.intra_op_threads=1", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const proto::DoctorReport report = parse_report(r.out);
  EXPECT_TRUE(report.passed());
  EXPECT_EQ(report.model(), "cnn");
  EXPECT_EQ(report.seed(), 20261125u);
  ASSERT_EQ(report.checks_size(), 6);
  const auto* dead = find_check(report, "dead_units");
  ASSERT_NE(dead, nullptr);
  EXPECT_GE(dead->figures_size(), 8) << "every conv, batch norm, relu, pool and linear layer is traced";
}

TEST(DoctorCliTest, ExplodingLearningRateFailsTheFiniteCheckByName) {
  const auto r =
      run_repro({"doctor", "--config", config_path("mlp_synthetic.textproto"), "--set", "optimizer.lr=1e6", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const proto::DoctorReport report = parse_report(r.out);
  EXPECT_FALSE(report.passed());
  const auto* finite = find_check(report, "finite");
  ASSERT_NE(finite, nullptr);
  EXPECT_FALSE(finite->passed());
  EXPECT_FALSE(finite->subject().empty());
  EXPECT_THAT(finite->detail(), ::testing::StartsWith("step "));
  const auto text =
      run_repro({"doctor", "--config", config_path("mlp_synthetic.textproto"), "--set", "optimizer.lr=1e6"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_THAT(text.out, HasSubstr("\nFAIL finite [" + finite->subject() + "]: " + finite->detail() + "\n"));
}

TEST(DoctorCliTest, BadInputIsExitTwoWithOneLine) {
  const auto r =
      run_repro({"doctor", "--config", config_path("mlp_synthetic.textproto"), "--set", "train.on_nonfinite=maybe"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("train.on_nonfinite: unknown value 'maybe' (expected one of stop, warn)"));
  const auto missing = run_repro({"doctor"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err_lines().size(), 1u) << missing.err;
}

}  // namespace
}  // namespace repro
