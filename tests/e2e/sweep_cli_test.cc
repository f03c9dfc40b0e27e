// `repro sweep` and `repro check --envelope` on the real binary: fresh-process runs over seeds
// and grids, a reproducible report, envelope baselines.
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include "proto/check.pb.h"
#include "proto/sweep.pb.h"
#include "repro/determinism.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::run_repro;

const std::string kSteps = "train.steps=40";

std::string config() { return testing::config_path("mlp_synthetic.textproto"); }

proto::SweepReport parse_report(const std::string& json) {
  proto::SweepReport report;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &report).ok()) << json;
  return report;
}

// One 5-seed sweep of mlp_synthetic (-j 2) with its envelope, shared by the tests below.
class SweepCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    first_ = new testing::ProcessResult(
        run_repro({"sweep", "--config", config(), "--seeds", "5", "-j", "2", "--set", kSteps, "--report", *dir_ / "a",
                   "--save-envelope", *dir_ / "envelope.json", "--json"}));
  }
  static void TearDownTestSuite() {
    delete first_;
    delete dir_;
  }
  static testing::TempDir* dir_;
  static testing::ProcessResult* first_;
};
testing::TempDir* SweepCliTest::dir_ = nullptr;
testing::ProcessResult* SweepCliTest::first_ = nullptr;

using testing::last_line;

TEST_F(SweepCliTest, FiveSeedsInParallelGiveTheSameReportWhenRepeated) {
  ASSERT_EQ(first_->exit_code, 0) << first_->err;
  const proto::SweepReport report = parse_report(first_->out);
  ASSERT_EQ(report.seeds_size(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(report.seeds(i), derive_seed(42, "sweep/" + std::to_string(i + 1)));
  ASSERT_EQ(report.settings_size(), 1);
  const auto& setting = report.settings(0);
  EXPECT_EQ(setting.label(), "base");
  ASSERT_EQ(setting.runs_size(), 5);
  ASSERT_GE(setting.metrics_size(), 3);
  EXPECT_EQ(setting.metrics(0).name(), "final_loss");
  EXPECT_EQ(setting.metrics(0).stats().n(), 5);
  EXPECT_GT(setting.metrics(0).stats().std(), 0.0);  // the seeds really differ
  EXPECT_EQ(setting.steps_size(), 40);
  EXPECT_EQ(testing::read_file(*dir_ / "a/sweep.json"), first_->out);
  // Progress on stderr, one line per finished run.
  EXPECT_NE(first_->err.find("sweep: 5/5 base seed"), std::string::npos) << first_->err;

  // The same sweep again, into another directory: the same report, byte for byte.
  const auto again = run_repro(
      {"sweep", "--config", config(), "--seeds", "5", "-j", "2", "--set", kSteps, "--report", *dir_ / "b", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, first_->out);
}

// One test for both sides of the envelope: each test of this fixture runs the sweep again.
TEST_F(SweepCliTest, NewSeedStaysInsideTenfoldLearningRateFallsOutsideAtANamedStep) {
  ASSERT_EQ(first_->exit_code, 0) << first_->err;
  // The config's own seed (42) is the master the sweep's seeds derive from, not one of them.
  const std::string same =
      last_line(run_repro({"run", "--config", config(), "--runs-dir", *dir_ / "runs", "--set", kSteps}).out);
  const auto inside = run_repro({"check", "--envelope", *dir_ / "envelope.json", same});
  EXPECT_EQ(inside.exit_code, 0) << inside.out << inside.err;
  EXPECT_NE(inside.out.find(same + ": inside the envelope: 40 steps"), std::string::npos) << inside.out;

  const std::string run_dir = last_line(
      run_repro({"run", "--config", config(), "--runs-dir", *dir_ / "runs", "--set", kSteps, "--set", "optimizer.lr=1"})
          .out);
  const auto text = run_repro({"check", "--envelope", *dir_ / "envelope.json", run_dir});
  EXPECT_EQ(text.exit_code, 1) << text.out << text.err;
  const auto json = run_repro({"check", "--envelope", *dir_ / "envelope.json", run_dir, "--json"});
  EXPECT_EQ(json.exit_code, 1);
  // One CheckReport with the run's envelope check, named by its directory.
  proto::CheckReport report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &report).ok()) << json.out;
  EXPECT_FALSE(report.passed());
  ASSERT_EQ(report.envelope_checks_size(), 1);
  EXPECT_EQ(report.envelope_checks(0).name(), run_dir);
  EXPECT_TRUE(report.envelope_checks(0).entry().empty());
  const proto::EnvelopeCheck& check = report.envelope_checks(0).check();
  EXPECT_FALSE(check.inside());
  ASSERT_TRUE(check.has_first_step_outside());
  EXPECT_TRUE(check.loss() < check.low() || check.loss() > check.high());
  // The text names the same step, and the config difference as a note.
  EXPECT_NE(text.out.find("outside the envelope at step " + std::to_string(check.first_step_outside()) + ": loss "),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("note: config differs from the envelope's"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("optimizer.lr"), std::string::npos) << text.out;
}

TEST_F(SweepCliTest, NightlySuiteEntryIsCheckedAgainstItsEnvelope) {
  ASSERT_EQ(first_->exit_code, 0) << first_->err;
  // One entry as the sweep ran it (inside), one with lr x10 (outside); relative envelope path.
  testing::write_file(*dir_ / "suite.textproto",
                      "entry { name: \"same\" config: \"" + config() + "\" set: \"" + kSteps +
                          "\" runs: 1 envelope: \"envelope.json\" }\n"
                          "entry { name: \"lr10\" config: \"" +
                          config() + "\" set: \"" + kSteps +
                          "\" set: \"optimizer.lr=1\" runs: 1 envelope: \"envelope.json\" }\n");
  const auto r = run_repro(
      {"check", *dir_ / "suite.textproto", "-j", "2", "--report", *dir_ / "nightly", "--junit", *dir_ / "nightly.xml"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("same: run 1 vs envelope: inside the envelope: 40 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lr10: run 1 vs envelope: outside the envelope at step "), std::string::npos) << r.out;
  const std::string xml = testing::read_file(*dir_ / "nightly.xml");
  EXPECT_NE(xml.find("name=\"run 1 vs envelope\">\n      <failure message=\"outside the envelope at step"),
            std::string::npos)
      << xml;
  EXPECT_NE(testing::read_file(*dir_ / "nightly/summary.md").find("| lr10 | run 1 vs envelope | OUTSIDE |"),
            std::string::npos);
}

TEST(SweepCliGridTest, VaryRunsTheGridAndReportsSensitivity) {
  testing::TempDir dir;
  const auto r = run_repro({"sweep", "--config", config(), "--seeds", "2", "-j", "2", "--set", "train.steps=10",
                            "--vary", "optimizer.lr=0.01,0.1", "--report", dir / "grid"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 setting(s) x 2 seeds = 4 runs, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("optimizer.lr=0.01"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("optimizer.lr -> final_loss: effect "), std::string::npos) << r.out;
  const proto::SweepReport report = parse_report(testing::read_file(dir / "grid/sweep.json"));
  ASSERT_EQ(report.settings_size(), 2);
  EXPECT_TRUE(fs::exists(dir / "grid/runs/2-seed2/record.pb"));
  ASSERT_GE(report.sensitivity_size(), 1);
  EXPECT_EQ(report.sensitivity(0).field(), "optimizer.lr");
  // The same seeds in both settings: the losses at step 0 (before any update) are identical.
  EXPECT_EQ(report.settings(0).steps(0).loss().mean(), report.settings(1).steps(0).loss().mean());
  EXPECT_NE(report.settings(0).metrics(0).stats().mean(), report.settings(1).metrics(0).stats().mean());
}

// -j is one flag of check and sweep, checked by the library, which names the option; the
// command line prints the flag.
TEST(SweepCliGridTest, JobsBelowOneIsTheSameErrorInCheckAndSweep) {
  testing::TempDir dir;
  for (const std::string command : {"sweep", "check"}) {
    std::vector<std::string> args = {command};
    if (command == "sweep") args.push_back("--config");
    args.insert(args.end(), {config(), "--report", dir / command, "-j", "0"});
    const auto r = run_repro(args);
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_EQ(r.err, "repro: -j: must be >= 1 (got 0)\n") << command;
    EXPECT_FALSE(fs::exists(dir / command + "/runs")) << command;
  }
}

TEST(SweepCliGridTest, BadInputExitsTwoNamingIt) {
  testing::TempDir dir;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--vary", "optimizer.lrr=1,2"}, "optimizer.lrr"},
      {{"--vary", "optimizer.lr=abc,1"}, "optimizer.lr"},
      {{"--vary", "optimizer.lr=0,1"}, "optimizer.lr"},
      {{"--seeds", "1"}, "--seeds"},
      {{"--vary", "optimizer.lr=1,2", "--save-envelope", dir / "e.json"}, "--save-envelope"},
  };
  for (const auto& [extra, named] : cases) {
    std::vector<std::string> args = {"sweep", "--config", config(), "--report", dir / "r"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_repro(args);
    EXPECT_EQ(r.exit_code, 2) << named << ": " << r.err;
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "r/runs")) << named;
  }
  const auto missing = run_repro({"check", "--envelope", dir / "none.json", dir.path().string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find(dir / "none.json"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace repro
