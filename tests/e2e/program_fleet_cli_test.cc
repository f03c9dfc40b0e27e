// `repro check` suite entries that name a command and `repro sweep -- PROGRAM`: a user's own
// program (tests/e2e/programs/data_trainer.cc) run in fresh processes by the real binary.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "proto/check.pb.h"
#include "proto/sweep.pb.h"
#include "repro/record.h"
#include "repro/sweep.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::run_repro;

const std::string kTrainer = REPRO_DATA_TRAINER;

// 32 samples "x,y,label"; `changed_row` gets another label.
std::string csv(int changed_row = -1) {
  std::string text = "x,y,label\n";
  for (int i = 0; i < 32; ++i) {
    text += std::to_string(i % 7) + "," + std::to_string((i * 5) % 11) + "," +
            std::to_string(i == changed_row ? 3 : i % 2) + "\n";
  }
  return text;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The suite: the program by a path relative to the suite file, its data relative to its cwd.
std::string write_suite(const testing::TempDir& dir) {
  fs::create_directories(dir / "bin");
  fs::create_directories(dir / "work");
  fs::create_symlink(kTrainer, dir / "bin/data_trainer");
  testing::write_file(dir / "work/train.csv", csv());
  testing::write_file(dir / "suite.textproto",
                      "entry { name: \"trainer\" command: \"bin/data_trainer\" command: \"train.csv\" command: \"12\"\n"
                      "        cwd: \"work\" set: \"params.lr=0.1\" runs: 2 }\n");
  return dir / "suite.textproto";
}

TEST(ProgramCheckCliTest, CommandEntryPassesTwiceThenFailsNamingTheChangedDataFile) {
  testing::TempDir dir;
  const std::string suite = write_suite(dir);
  const auto first = run_repro({"check", suite, "--baseline", dir / "baselines", "--update-baseline", "--junit",
                                dir / "1.xml", "--report", dir / "r1", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  proto::CheckReport report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(first.out, &report).ok()) << first.out;
  ASSERT_EQ(report.runs_size(), 2);
  EXPECT_EQ(report.runs(1).exit_code(), 0);
  ASSERT_EQ(report.comparisons_size(), 1);
  EXPECT_EQ(report.comparisons(0).name(), "run 2 vs run 1");
  EXPECT_EQ(report.comparisons(0).report().verdict(), proto::IDENTICAL);
  EXPECT_TRUE(fs::exists(dir / "baselines/trainer/record.pb"));
  // Started as the entry says, in its cwd, with the launch variables (printed by the program).
  const std::string log = testing::read_file(dir / "r1/runs/trainer/run-1.log");
  EXPECT_TRUE(contains(log, "REPRO_LAUNCHER=repro check\n")) << log;
  EXPECT_TRUE(contains(log, "REPRO_SET=params.lr=0.1\n")) << log;
  EXPECT_TRUE(contains(log, "REPRO_SEED=(unset)\n")) << log;
  const RunData run = read_run(dir / "r1/runs/trainer/run-1");
  EXPECT_EQ(run.steps.size(), 12u);
  EXPECT_EQ(run.header.cwd(), fs::canonical(dir / "work").string());
  ASSERT_GE(run.header.data().files_size(), 1);
  EXPECT_EQ(run.header.data().files(0).role(), "csv");

  const auto second =
      run_repro({"check", suite, "--baseline", dir / "baselines", "--junit", dir / "2.xml", "--report", dir / "r2"});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  const std::string passed = testing::read_file(dir / "2.xml");
  EXPECT_TRUE(contains(passed, "name=\"run 1 vs baseline\"")) << passed;
  EXPECT_FALSE(contains(passed, "<failure")) << passed;
  EXPECT_TRUE(fs::exists(dir / "r2/summary.md"));

  testing::write_file(dir / "work/train.csv", csv(5));
  const auto third =
      run_repro({"check", suite, "--baseline", dir / "baselines", "--junit", dir / "3.xml", "--report", dir / "r3"});
  EXPECT_EQ(third.exit_code, 1) << third.out << third.err;
  const std::string failed = testing::read_file(dir / "3.xml");
  const auto baseline_case = failed.find("name=\"run 1 vs baseline\"");
  ASSERT_NE(baseline_case, std::string::npos) << failed;
  const std::string baseline_text =
      failed.substr(baseline_case, failed.find("</testcase>", baseline_case) - baseline_case);
  EXPECT_TRUE(contains(baseline_text, "<failure")) << baseline_text;
  EXPECT_TRUE(contains(baseline_text, "[numerics] data.files[csv].xxh3")) << baseline_text;
  EXPECT_TRUE(contains(baseline_text, "train.csv content changed")) << baseline_text;
  EXPECT_TRUE(contains(third.out, "data.files[csv].xxh3: train.csv content changed")) << third.out;
}

TEST(ProgramCheckCliTest, BadEntryExitsTwoNamingItBeforeAnythingRuns) {
  testing::TempDir dir;
  testing::write_file(dir / "suite.textproto", "entry { command: \"bin/missing\" }\n");
  const auto missing = run_repro({"check", dir / "suite.textproto", "--report", dir / "r"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(testing::last_line(missing.err),
            "repro: suite entry 1 (missing): command: " + (dir / "bin/missing") + " does not exist");
  testing::write_file(dir / "suite.textproto",
                      "entry { name: \"x\" command: \"/bin/true\" config: \"a.textproto\" }\n");
  const auto both = run_repro({"check", dir / "suite.textproto", "--report", dir / "r"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(testing::last_line(both.err),
            "repro: suite entry 1 (x): give exactly one of config and command (both are set)");
  EXPECT_FALSE(fs::exists(dir / "r"));
}

TEST(ProgramCheckCliTest, ProgramThatRecordsNothingIsAnEntryError) {
  testing::TempDir dir;
  testing::write_file(dir / "suite.textproto", "entry { name: \"silent\" command: \"true\" runs: 1 }\n");
  const auto r = run_repro({"check", dir / "suite.textproto", "--report", dir / "r", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  proto::CheckReport report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
  ASSERT_EQ(report.errors_size(), 1);
  EXPECT_TRUE(
      contains(report.errors(0), "silent: run 1 exited with 0 but recorded no run in " + (dir / "r/runs/silent/run-1")))
      << report.errors(0);
}

proto::SweepReport parse_sweep(const std::string& json) {
  proto::SweepReport report;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &report).ok()) << json;
  return report;
}

TEST(ProgramSweepCliTest, ThreeSeedsGiveStatisticsOverTheRecordedLosses) {
  testing::TempDir dir;
  testing::write_file(dir / "train.csv", csv());
  const auto r =
      run_repro({"sweep", "--seeds", "3", "--report", dir / "s", "--json", "--", kTrainer, dir / "train.csv", "12"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const proto::SweepReport report = parse_sweep(r.out);
  EXPECT_EQ(std::vector<std::string>(report.command().begin(), report.command().end()),
            (std::vector<std::string>{kTrainer, dir / "train.csv", "12"}));
  EXPECT_EQ(report.config(), "");
  EXPECT_EQ(report.base_seed(), kDefaultProgramSweepSeed);
  EXPECT_EQ(std::vector<std::uint64_t>(report.seeds().begin(), report.seeds().end()), sweep_seeds(1, 3));
  ASSERT_EQ(report.settings_size(), 1);
  const auto& setting = report.settings(0);
  EXPECT_EQ(setting.label(), "base");
  EXPECT_FALSE(setting.config_digest().empty());
  ASSERT_GE(setting.metrics_size(), 1);
  EXPECT_EQ(setting.metrics(0).name(), "final_loss");
  EXPECT_EQ(setting.metrics(0).stats().n(), 3);
  ASSERT_EQ(setting.steps_size(), 12);
  for (const auto& step : setting.steps()) EXPECT_EQ(step.loss().n(), 3);
  std::vector<double> finals;
  for (int i = 0; i < 3; ++i) {
    const std::string run_dir = dir / "s/runs/1-seed" + std::to_string(i + 1);
    const RunData run = read_run(run_dir);
    ASSERT_EQ(run.steps.size(), 12u);
    // The statistics are over exactly the losses the program recorded.
    ASSERT_EQ(setting.runs(i).metrics(0).name(), "final_loss");
    EXPECT_EQ(setting.runs(i).metrics(0).value(), static_cast<double>(run.steps.back().loss_f32()));
    finals.push_back(setting.runs(i).metrics(0).value());
    const std::string log = testing::read_file(run_dir + ".log");
    EXPECT_TRUE(contains(log, "REPRO_SEED=" + std::to_string(report.seeds(i)) + "\n")) << log;
    EXPECT_TRUE(contains(log, "REPRO_LAUNCHER=repro sweep\n")) << log;
    EXPECT_EQ(run.header.seed(), report.seeds(i));  // the Session took the seed it was given
  }
  EXPECT_EQ(setting.metrics(0).stats().min(), *std::min_element(finals.begin(), finals.end()));
  EXPECT_EQ(setting.metrics(0).stats().max(), *std::max_element(finals.begin(), finals.end()));
  EXPECT_GT(setting.metrics(0).stats().std(), 0.0);
}

// The wrapped example itself (models/examples/mnist_repro, data on its command line): each
// seed reaches its Session (REPRO_SEED replaces the example's own seed 1), so the runs differ
// and the statistics are over three real losses.
TEST(ProgramSweepCliTest, SweepOfTheWrappedExampleGivesStatisticsOverItsSeeds) {
  testing::TempDir dir;
  const auto r = run_repro({"sweep", "--seeds", "3", "--report", dir / "s", "--json", "--", REPRO_MNIST_REPRO,
                            "/usr/share/datasets/fashion-mnist", "6", "256"},
                           {{"REPRO_DIGEST_CACHE", dir / "cache"}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const proto::SweepReport report = parse_sweep(r.out);
  EXPECT_EQ(report.config(), "");
  ASSERT_EQ(report.command_size(), 4);
  EXPECT_EQ(std::vector<std::uint64_t>(report.seeds().begin(), report.seeds().end()), sweep_seeds(1, 3));
  ASSERT_EQ(report.settings_size(), 1);
  const auto& setting = report.settings(0);
  ASSERT_EQ(setting.runs_size(), 3);
  std::vector<double> finals;
  for (int i = 0; i < 3; ++i) {
    const RunData run = read_run(dir / "s/" + setting.runs(i).dir());
    EXPECT_EQ(run.header.seed(), report.seeds(i));
    EXPECT_EQ(run.header.launcher(), "repro sweep");
    ASSERT_EQ(run.steps.size(), 6u);
    finals.push_back(run.steps.back().loss_f32());
  }
  ASSERT_GE(setting.metrics_size(), 1);
  EXPECT_EQ(setting.metrics(0).name(), "final_loss");
  EXPECT_EQ(setting.metrics(0).stats().n(), 3);
  EXPECT_EQ(setting.metrics(0).stats().min(), *std::min_element(finals.begin(), finals.end()));
  EXPECT_EQ(setting.metrics(0).stats().max(), *std::max_element(finals.begin(), finals.end()));
  EXPECT_GT(setting.metrics(0).stats().std(), 0.0);
  ASSERT_EQ(setting.steps_size(), 6);
  EXPECT_EQ(setting.steps(5).loss().n(), 3);
}

TEST(ProgramSweepCliTest, VaryPassesEachSettingAsOverridesAndSeedMovesTheSeeds) {
  testing::TempDir dir;
  testing::write_file(dir / "train.csv", csv());
  const auto r = run_repro({"sweep", "--seeds", "2", "--seed", "7", "--vary", "params.lr=0.1,0.2", "--set",
                            "params.steps=4", "--report", dir / "s", "--json", "--", kTrainer, dir / "train.csv", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const proto::SweepReport report = parse_sweep(r.out);
  EXPECT_EQ(report.base_seed(), 7u);
  EXPECT_EQ(std::vector<std::uint64_t>(report.seeds().begin(), report.seeds().end()), sweep_seeds(7, 2));
  ASSERT_EQ(report.settings_size(), 2);
  EXPECT_EQ(report.settings(1).label(), "params.lr=0.2");
  const std::string log = testing::read_file(dir / "s/runs/2-seed1.log");
  EXPECT_TRUE(contains(log, "REPRO_SET=params.steps=4\nparams.lr=0.2\n")) << log;
}

TEST(ProgramSweepCliTest, BadProgramOrFlagsExitTwo) {
  testing::TempDir dir;
  const auto missing = run_repro({"sweep", "--report", dir / "s", "--", dir / "nope"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(testing::last_line(missing.err), "repro: sweep program: " + (dir / "nope") + " does not exist");
  const auto both = run_repro({"sweep", "--config", testing::config_path("mlp_synthetic.textproto"), "--", kTrainer});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_TRUE(contains(both.err, "give either --config FILE or -- PROGRAM ARGS...")) << both.err;
  const auto seed = run_repro({"sweep", "--config", testing::config_path("mlp_synthetic.textproto"), "--seed", "3"});
  EXPECT_EQ(seed.exit_code, 2);
  EXPECT_TRUE(contains(seed.err, "--seed is for -- PROGRAM")) << seed.err;
  const auto set_seed = run_repro({"sweep", "--set", "seed=4", "--report", dir / "s", "--", kTrainer});
  EXPECT_EQ(set_seed.exit_code, 2);
  EXPECT_EQ(testing::last_line(set_seed.err), "repro: --set seed=4: a program sweep derives its seeds from --seed");
  EXPECT_FALSE(fs::exists(dir / "s"));
}

}  // namespace
}  // namespace repro
