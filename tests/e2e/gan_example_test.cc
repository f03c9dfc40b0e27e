// The GAN example (models/examples/gan_repro.cc) as a user runs it: two models and two losses
// recorded, runs and a `repro rerun` bitwise identical, and a change of the discriminator's
// learning rate (on its command line) named as a divergence of the discriminator; a sweep's
// envelope bands both losses, and a check against it names the series that left its band.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "proto/check.pb.h"
#include "proto/run_record.pb.h"
#include "proto/sweep.pb.h"
#include "report_util.h"
#include "repro/record.h"
#include "testutil.h"
#include "util/exact.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::parse_report;
using testing::run_repro;

constexpr const char* kData = "/usr/share/datasets/fashion-mnist";
constexpr const char* kSteps = "30";

// Runs the example in `cwd` (its runs go to cwd/runs) and returns the run directory it made.
std::string run_gan(const std::string& cwd, const std::string& d_lr) {
  fs::create_directories(cwd);
  const auto r = testing::run_process({REPRO_GAN_EXAMPLE, kData, kSteps, d_lr}, {}, cwd);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> dirs;
  for (const auto& e : fs::directory_iterator(cwd + "/runs")) dirs.push_back(e.path().string());
  EXPECT_EQ(dirs.size(), 1u) << cwd;
  return dirs.empty() ? "" : dirs.front();
}

class GanExampleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    run_a_ = run_gan(*dir_ / "a", "2e-4");
    run_b_ = run_gan(*dir_ / "b", "2e-4");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static testing::TempDir* dir_;
  static std::string run_a_, run_b_;
};
testing::TempDir* GanExampleTest::dir_ = nullptr;
std::string GanExampleTest::run_a_, GanExampleTest::run_b_;

TEST_F(GanExampleTest, RecordsBothLossesAndBothModels) {
  const RunData run = read_run(run_a_);
  EXPECT_EQ(run.status, proto::FINISHED);
  ASSERT_EQ(run.header.series_size(), 2);
  EXPECT_EQ(run.header.series(0), "d_loss");
  EXPECT_EQ(run.header.series(1), "g_loss");
  ASSERT_EQ(run.header.models_size(), 2);
  EXPECT_EQ(run.header.models(0).name(), "generator");
  EXPECT_EQ(run.header.models(1).name(), "discriminator");
  EXPECT_EQ(run.header.model().name(), "generator+discriminator");
  EXPECT_EQ(run.header.model().tensors(0).name(), "generator/fc1.weight");
  EXPECT_EQ(run.header.model().num_parameters(),
            run.header.models(0).num_parameters() + run.header.models(1).num_parameters());
  ASSERT_EQ(run.header.final_model_digests_size(), 2);
  EXPECT_EQ(run.header.final_model_digests(1).name(), "discriminator");
  ASSERT_EQ(run.steps.size(), 30u);
  for (const auto& s : run.steps) {
    ASSERT_EQ(s.values_size(), 2) << "step " << s.step();
    EXPECT_EQ(s.values(0).name(), "d_loss");
    EXPECT_EQ(s.values(1).name(), "g_loss");
    ASSERT_EQ(s.values(0).value_case(), proto::NamedValue::kF32);
    EXPECT_EQ(internal::float_bits(s.values(0).f32()), internal::float_bits(s.loss_f32())) << "the loss is d_loss";
  }
  // record.param_digest_every: 10 in the example: steps 0, 10, 20 carry each model's digest.
  ASSERT_EQ(run.steps[10].model_digests_size(), 2);
  EXPECT_EQ(run.steps[10].model_digests(0).name(), "generator");
  EXPECT_TRUE(run.steps[11].model_digests().empty());

  const auto shown = run_repro({"show", run_a_, "--steps"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("d_loss bits"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("g_loss bits"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find(internal::bits_hex(run.steps[5].values(1).f32())), std::string::npos) << shown.out;
}

TEST_F(GanExampleTest, TwoRunsAndARerunAreBitwiseIdentical) {
  const auto compared = run_repro({"compare", run_a_, run_b_, "--json"});
  EXPECT_EQ(compared.exit_code, 0) << compared.out << compared.err;
  const auto report = parse_report(compared);
  EXPECT_EQ(report.verdict(), proto::IDENTICAL) << report.summary();
  ASSERT_EQ(report.series_size(), 2);
  EXPECT_EQ(report.series(1).name(), "g_loss");
  EXPECT_EQ(report.series(1).steps_compared(), 30);
  EXPECT_FALSE(report.series(1).has_first_divergent_step());

  const auto rerun = run_repro({"rerun", run_a_, "--json"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  const auto again = parse_report(rerun);
  EXPECT_EQ(again.verdict(), proto::IDENTICAL) << again.summary();
  EXPECT_EQ(again.series_size(), 2);
  EXPECT_EQ(read_run(again.run_b()).header.final_model_digests_size(), 2);
}

TEST_F(GanExampleTest, ADiscriminatorLearningRateChangeIsNamedAsTheDiscriminators) {
  const std::string perturbed = run_gan(*dir_ / "c", "3e-4");
  const auto compared = run_repro({"compare", run_a_, perturbed, "--json"});
  EXPECT_EQ(compared.exit_code, 1) << compared.out << compared.err;
  const auto report = parse_report(compared);
  EXPECT_EQ(report.verdict(), proto::DIVERGED);
  // The generator steps first: at step 0 only the discriminator's update differs, and both
  // losses of step 0 are equal; from step 1 on both losses differ, d_loss first in order.
  ASSERT_TRUE(report.has_first_param_digest_divergent_step());
  EXPECT_EQ(report.first_param_digest_divergent_step(), 0);
  EXPECT_EQ(report.first_param_digest_divergent_model(), "discriminator");
  ASSERT_TRUE(report.has_first_divergent_step());
  EXPECT_EQ(report.first_divergent_step(), 1);
  EXPECT_EQ(report.first_divergent_series(), "d_loss");
  EXPECT_EQ(report.summary().rfind("diverged at step 1 (d_loss): ", 0), 0u) << report.summary();
  ASSERT_FALSE(report.steps().empty());
  EXPECT_EQ(report.steps(0).series(), "d_loss");

  // tools/plot_divergence: a panel per series, the first divergent one named.
  const std::string prefix = *dir_ / "plot";
  const auto plot = testing::run_process(
      {"/usr/bin/python3", testing::source_path("tools/plot_divergence"), run_a_, perturbed, "--out", prefix},
      {{"XDG_CACHE_HOME", *dir_ / "cache"}});
  EXPECT_EQ(plot.exit_code, 0) << plot.err;
  EXPECT_EQ(plot.out.rfind("diverged at step 1 (d_loss); parameter digests first differ at step 0\n", 0), 0u)
      << plot.out;
  const std::string svg = testing::read_file(prefix + ".svg");
  EXPECT_NE(svg.find("g_loss"), std::string::npos) << "the g_loss panel";

  const auto text = run_repro({"compare", run_a_, perturbed});
  EXPECT_NE(text.out.find("first divergent series"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("0 (discriminator)"), std::string::npos) << text.out;
}

// A three-seed sweep of the example saves an envelope with a band per step for g_loss beside
// the loss (d_loss); one of the sweep's own runs is inside it, and a run with a discriminator
// learning rate 250 times larger is outside, the series and its recorded value named.
TEST_F(GanExampleTest, TheSweepsEnvelopeBandsBothLossesAndACheckNamesTheSeriesOutside) {
  const std::string report_dir = *dir_ / "sweep";
  const auto swept = run_repro({"sweep", "--seeds", "3", "--report", report_dir, "--save-envelope",
                                *dir_ / "gan.envelope.json", "--json", "--", REPRO_GAN_EXAMPLE, kData, "8"});
  ASSERT_EQ(swept.exit_code, 0) << swept.out << swept.err;
  proto::SweepReport sweep;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(swept.out, &sweep).ok()) << swept.out;
  ASSERT_EQ(sweep.settings_size(), 1);
  const auto& setting = sweep.settings(0);
  ASSERT_EQ(setting.steps_size(), 8);
  ASSERT_EQ(setting.steps(7).series_size(), 1);
  EXPECT_EQ(setting.steps(7).series(0).name(), "g_loss");
  EXPECT_EQ(setting.steps(7).series(0).stats().n(), 3);
  const RunData first = read_run(report_dir + "/" + setting.runs(0).dir());
  EXPECT_LE(setting.steps(7).series(0).stats().min(), first.steps[7].values(1).f32());
  EXPECT_GE(setting.steps(7).series(0).stats().max(), first.steps[7].values(1).f32());

  const auto inside = run_repro({"check", "--envelope", *dir_ / "gan.envelope.json", first.dir});
  EXPECT_EQ(inside.exit_code, 0) << inside.out << inside.err;

  fs::create_directories(*dir_ / "far");
  const auto far = testing::run_process({REPRO_GAN_EXAMPLE, kData, "8", "5e-2"}, {}, *dir_ / "far");
  ASSERT_EQ(far.exit_code, 0) << far.err;
  const std::string far_run = fs::directory_iterator(*dir_ / "far/runs")->path().string();
  const auto checked = run_repro({"check", "--envelope", *dir_ / "gan.envelope.json", far_run, "--json"});
  EXPECT_EQ(checked.exit_code, 1) << checked.out << checked.err;
  proto::CheckReport report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(checked.out, &report).ok()) << checked.out;
  ASSERT_EQ(report.envelope_checks_size(), 1);
  const proto::EnvelopeCheck& check = report.envelope_checks(0).check();
  ASSERT_TRUE(check.has_first_step_outside()) << check.DebugString();
  const RunData run = read_run(far_run);
  const auto& step = run.steps.at(static_cast<std::size_t>(check.first_step_outside()));
  const int index = check.series() == "g_loss" ? 1 : 0;
  ASSERT_TRUE(check.series() == "d_loss" || check.series() == "g_loss") << check.series();
  EXPECT_EQ(internal::float_bits(static_cast<float>(check.loss())), internal::float_bits(step.values(index).f32()));
  const auto text = run_repro({"check", "--envelope", *dir_ / "gan.envelope.json", far_run});
  EXPECT_NE(text.out.find("outside the envelope at step " + std::to_string(check.first_step_outside()) + ": " +
                          check.series() + " "),
            std::string::npos)
      << text.out;
}

}  // namespace
}  // namespace repro
