// The doctor's layer checks on TorchScript modules (the interpreter's ops are traced and named
// after the submodule whose parameters they use), and a check that sees no layer is skipped,
// never passed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <future>

#include "repro/config.h"
#include "repro/testing.h"
#include "testutil.h"
#include "torchscript_fixture.h"

namespace repro {
namespace {

using ::testing::HasSubstr;
using testing::ScriptNetFault;
using ::testing::StartsWith;

// A TorchScript Net on synthetic clusters (16 features, 4 classes), built as `repro doctor` builds it.
class DoctorTorchScriptTest : public ::testing::Test {
 protected:
  DoctorTarget target(ScriptNetFault fault) {
    return doctor_target(load_config(testing::write_torchscript_net_config(dir.path().string(), fault)));
  }
  testing::TempDir dir;
};

std::vector<std::string> figures_named(const proto::DoctorCheck& check, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& f : check.figures()) {
    if (f.name().rfind(prefix, 0) == 0) out.push_back(f.name().substr(prefix.size()));
  }
  return out;
}

double figure(const proto::DoctorCheck& check, const std::string& name) {
  for (const auto& f : check.figures()) {
    if (f.name() == name) return f.value();
  }
  ADD_FAILURE() << "no figure " << name;
  return -1;
}

TEST_F(DoctorTorchScriptTest, LayersOfSubmodulesAreTracedByName) {
  auto net = target(ScriptNetFault::kNone);
  const proto::DoctorCheck dead = check_dead_units(net);
  EXPECT_TRUE(testing::doctor_passes(dead));
  EXPECT_FALSE(dead.skipped());
  EXPECT_THAT(figures_named(dead, "dead_fraction: "),
              ::testing::ElementsAre(StartsWith("fc1 (aten::"), "aten::relu after fc1", StartsWith("fc2 (aten::")));
  EXPECT_THAT(dead.detail(), StartsWith("3 layers; the most dead units: "));
  const proto::DoctorCheck finite = check_finite(net);
  EXPECT_TRUE(testing::doctor_passes(finite));
  EXPECT_EQ(finite.detail(), "parameters, 3 layer outputs, loss and gradients finite over 30 steps");
  EXPECT_EQ(figure(finite, "layer_outputs"), 3.0);
  // After 30 steps the executor runs its optimised graph, which detaches the parameters it
  // takes: the layers keep their names.
  EXPECT_EQ(figures_named(check_dead_units(net), "dead_fraction: "), figures_named(dead, "dead_fraction: "));
}

TEST_F(DoctorTorchScriptTest, DeadReluSubmoduleFailsDeadUnitsNamingTheLayer) {
  auto net = target(ScriptNetFault::kDeadRelu);
  const proto::DoctorCheck check = check_dead_units(net);
  EXPECT_TRUE(testing::doctor_fails(check, "aten::relu after fc1"));
  EXPECT_EQ(check.subject(), "aten::relu after fc1");
  EXPECT_EQ(check.detail(),
            "aten::relu after fc1: 100% of its 32 units are zero for all 32 samples of a batch (limit 50%)");
  EXPECT_EQ(check.offenders_size(), 1);
  EXPECT_EQ(figure(check, "dead_fraction: aten::relu after fc1"), 1.0);
  EXPECT_FALSE(check.skipped());
}

TEST_F(DoctorTorchScriptTest, NanInALayerOutputFailsFiniteNamingTheLayer) {
  auto net = target(ScriptNetFault::kNanLayer);
  const proto::DoctorCheck check = check_finite(net);
  EXPECT_TRUE(testing::doctor_fails(check, "aten::log after fc1"));
  EXPECT_EQ(check.subject(), "aten::log after fc1");
  EXPECT_THAT(check.detail(), StartsWith("step 0, layer output: aten::log after fc1 has "));
  EXPECT_THAT(check.detail(), HasSubstr(" NaN and 0 Inf of 1024 elements"));  // 32 samples x 32 units
  EXPECT_EQ(figure(check, "steps"), 1.0);
}

// A forward whose ops run on another thread: the op trace sees none of them.
TEST(DoctorSkipTest, NoTracedLayerSkipsDeadUnitsAndFiniteClaimsOnlyWhatItSaw) {
  torch::manual_seed(1);
  auto net = std::make_shared<torch::nn::SequentialImpl>(torch::nn::Linear(16, 32), torch::nn::ReLU(),
                                                         torch::nn::Linear(32, 4));
  const at::Tensor x = at::randn({64, 16}), y = at::randint(4, {64}, at::kLong);
  auto target = doctor_target(
      net,
      [net](const at::Tensor& in) { return std::async(std::launch::async, [&] { return net->forward(in); }).get(); },
      [net] { return std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(0.01)); }, x, y);
  const proto::DoctorCheck dead = check_dead_units(target);
  EXPECT_FALSE(dead.passed());
  EXPECT_TRUE(dead.skipped());
  EXPECT_EQ(dead.subject(), "");
  EXPECT_THAT(dead.detail(), StartsWith("no layer output traced: the forward ran no ATen op"));
  EXPECT_EQ(dead.figures_size(), 0);
  EXPECT_THAT(format_doctor_check(dead), StartsWith("SKIP dead_units: no layer output traced"));
  EXPECT_FALSE(testing::doctor_passes(dead));
  EXPECT_FALSE(testing::doctor_fails(dead, ""));

  const proto::DoctorCheck finite = check_finite(target);
  EXPECT_TRUE(finite.passed());
  EXPECT_THAT(finite.detail(),
              StartsWith("parameters, loss and gradients finite over 30 steps; layer outputs not checked: "));
  EXPECT_EQ(figure(finite, "layer_outputs"), 0.0);

  const proto::DoctorReport report = run_doctor(target);
  EXPECT_TRUE(report.passed()) << "a skipped check does not fail the report";
  EXPECT_EQ(exit_code_of(report), 0);
  EXPECT_THAT(format_doctor_report(report), HasSubstr(": 5 of 6 checks passed, 1 skipped: dead_units\n"));
  EXPECT_TRUE(testing::doctor_healthy(report));
}

TEST(DoctorSkipTest, SummaryNamesFailedAndSkippedChecks) {
  proto::DoctorReport report;
  report.set_model("m");
  report.set_seed(3);
  auto* ok = report.add_checks();
  ok->set_name("smoke");
  ok->set_passed(true);
  auto* bad = report.add_checks();
  bad->set_name("finite");
  bad->set_detail("step 0: loss has 1 NaN and 0 Inf of 1 elements");
  auto* skipped = report.add_checks();
  skipped->set_name("dead_units");
  skipped->set_skipped(true);
  skipped->set_detail("no layer output traced");
  EXPECT_EQ(format_doctor_report(report),
            "doctor: m: 1 of 3 checks failed: finite; 1 skipped: dead_units (seed 3)\n"
            "PASS smoke: \n"
            "FAIL finite: step 0: loss has 1 NaN and 0 Inf of 1 elements\n"
            "SKIP dead_units: no layer output traced\n");
}

}  // namespace
}  // namespace repro
