// `repro doctor` on TorchScript models (model.torchscript.path) in fresh processes: the layers
// of a scripted module's submodules are traced, a dead ReLU fails dead_units naming the layer
// (exit 1), a NaN in a layer output fails finite naming it, a healthy module passes.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "proto/doctor.pb.h"
#include "testutil.h"
#include "torchscript_fixture.h"

namespace repro {
namespace {

using ::testing::HasSubstr;
using testing::run_repro;
using testing::ScriptNetFault;
using ::testing::StartsWith;

// Synthetic clusters (16 features, 4 classes) and SGD, as torchscript_cli_test trains them.
std::string write_config(const testing::TempDir& dir, ScriptNetFault fault) {
  return testing::write_torchscript_net_config(dir.path().string(), fault);
}

proto::DoctorReport parse_report(const std::string& json) {
  proto::DoctorReport report;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &report).ok()) << json;
  return report;
}

const proto::DoctorCheck& check_named(const proto::DoctorReport& report, const std::string& name) {
  for (const auto& c : report.checks()) {
    if (c.name() == name) return c;
  }
  ADD_FAILURE() << "no check " << name;
  return proto::DoctorCheck::default_instance();
}

TEST(DoctorTorchScriptCliTest, DeadReluFailsDeadUnitsNamingTheLayer) {
  testing::TempDir dir;
  const std::string config = write_config(dir, ScriptNetFault::kDeadRelu);
  const auto text = run_repro({"doctor", "--config", config});
  EXPECT_EQ(text.exit_code, 1) << text.out << text.err;
  EXPECT_THAT(text.out, HasSubstr("\nFAIL dead_units [aten::relu after fc1]: aten::relu after fc1: 100% of its 32 "
                                  "units are zero for all 32 samples of a batch (limit 50%)\n"));
  EXPECT_THAT(text.out, HasSubstr("       dead_fraction: aten::relu after fc1 = 1\n"));
  EXPECT_THAT(text.out, ::testing::Not(HasSubstr("no layer output")));

  const auto json = run_repro({"doctor", "--config", config, "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  const proto::DoctorReport report = parse_report(json.out);
  EXPECT_FALSE(report.passed());
  EXPECT_EQ(report.model(), "torchscript");
  const auto& dead = check_named(report, "dead_units");
  EXPECT_FALSE(dead.passed());
  EXPECT_FALSE(dead.skipped());
  EXPECT_EQ(dead.subject(), "aten::relu after fc1");
  EXPECT_THAT(dead.offenders(), ::testing::ElementsAre("aten::relu after fc1"));
}

TEST(DoctorTorchScriptCliTest, HealthyModulePassesWithEveryLayerTraced) {
  testing::TempDir dir;
  const auto r = run_repro({"doctor", "--config", write_config(dir, ScriptNetFault::kNone), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const proto::DoctorReport report = parse_report(r.out);
  EXPECT_TRUE(report.passed());
  ASSERT_EQ(report.checks_size(), 6);
  for (const auto& c : report.checks()) EXPECT_TRUE(c.passed() && !c.skipped()) << c.name() << ": " << c.detail();
  const auto& finite = check_named(report, "finite");
  EXPECT_EQ(finite.detail(), "parameters, 3 layer outputs, loss and gradients finite over 30 steps");
  std::vector<std::string> layers;
  for (const auto& f : check_named(report, "dead_units").figures()) {
    if (f.name().rfind("dead_fraction: ", 0) == 0) layers.push_back(f.name().substr(15));
  }
  EXPECT_THAT(layers,
              ::testing::ElementsAre(StartsWith("fc1 (aten::"), "aten::relu after fc1", StartsWith("fc2 (aten::")));
}

TEST(DoctorTorchScriptCliTest, NanInALayerOutputFailsFiniteNamingTheLayer) {
  testing::TempDir dir;
  const auto r = run_repro({"doctor", "--config", write_config(dir, ScriptNetFault::kNanLayer)});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\nFAIL finite [aten::log after fc1]: step 0, layer output: aten::log after fc1 has "));
}

}  // namespace
}  // namespace repro
