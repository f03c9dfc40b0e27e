// `repro run -- PROGRAM`: a user's program run, compared and rerun by the real binary, in fresh
// processes. The program is tests/e2e/programs/param_trainer.cc (BATCH on its command line, lr
// from session.param), built twice: with the default lr 0.05, and with 0.02 (_lr02).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "proto/report.pb.h"
#include "report_util.h"
#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::last_line;
using testing::parse_report;
using testing::run_process;
using testing::run_repro;

// The run directory `exe RUNS BATCH` recorded under `runs` (the only new one there).
std::string newest_run(const std::string& runs, const std::vector<std::string>& before) {
  for (const auto& e : fs::directory_iterator(runs)) {
    const std::string p = e.path().string();
    if (std::find(before.begin(), before.end(), p) == before.end()) return p;
  }
  return "";
}

std::vector<std::string> runs_in(const std::string& runs) {
  std::vector<std::string> out;
  if (!fs::exists(runs)) return out;
  for (const auto& e : fs::directory_iterator(runs)) out.push_back(e.path().string());
  return out;
}

std::string by_hand(const std::string& exe, const std::string& runs, const std::string& batch) {
  const auto before = runs_in(runs);
  const auto r = run_process({exe, runs, batch});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return newest_run(runs, before);
}

proto::ComparisonReport compare(const std::string& a, const std::string& b, int expected_exit) {
  const auto r = run_repro({"compare", a, b, "--json"});
  EXPECT_EQ(r.exit_code, expected_exit) << r.err << r.out;
  return parse_report(r);
}

const proto::Difference* find_field(const proto::ComparisonReport& report, const std::string& field) {
  for (const auto& d : report.differences()) {
    if (d.field() == field) return &d;
  }
  return nullptr;
}

// (b) a setting changed on the program's command line: compare names the argv element.
TEST(LaunchScenarioTest, CommandLineSettingIsNamedAsArgvElement) {
  testing::TempDir dir;
  const std::string a = by_hand(REPRO_PARAM_TRAINER, dir / "runs", "16");
  const std::string b = by_hand(REPRO_PARAM_TRAINER, dir / "runs", "24");
  const auto report = compare(a, b, 1);
  EXPECT_EQ(report.verdict(), proto::DIVERGED);
  EXPECT_EQ(report.first_divergent_step(), 0);
  const auto* d = find_field(report, "argv[2]");
  ASSERT_NE(d, nullptr) << report.DebugString();
  EXPECT_EQ(d->a(), "16");
  EXPECT_EQ(d->b(), "24");
  EXPECT_TRUE(d->affects_numerics());
  EXPECT_EQ(report.summary(), "diverged at step 0: argv[2] 16 vs 24");
  EXPECT_EQ(find_field(report, "argv[0]"), nullptr);
  EXPECT_EQ(find_field(report, "argv[1]"), nullptr);
}

// (c) a session.param default changed in the code and rebuilt: compare names the default and
// the executable.
TEST(LaunchScenarioTest, ChangedDefaultInTheCodeIsNamedWithTheExecutable) {
  testing::TempDir dir;
  const std::string a = by_hand(REPRO_PARAM_TRAINER, dir / "runs", "16");
  const std::string b = by_hand(REPRO_PARAM_TRAINER_LR02, dir / "runs", "16");
  const auto report = compare(a, b, 1);
  EXPECT_EQ(report.verdict(), proto::DIVERGED);
  EXPECT_EQ(report.first_divergent_step(), 1);  // step 0's loss comes before the first update
  const auto* def = find_field(report, "params.lr.default");
  ASSERT_NE(def, nullptr) << report.DebugString();
  EXPECT_EQ(def->a(), "0.05");
  EXPECT_EQ(def->b(), "0.02");
  EXPECT_TRUE(def->affects_numerics());
  ASSERT_NE(find_field(report, "params.lr"), nullptr);
  EXPECT_EQ(find_field(report, "params.lr")->explanation(), "params.lr 0.05 vs 0.02");
  ASSERT_NE(find_field(report, "code.executable_xxh3"), nullptr);
  EXPECT_TRUE(find_field(report, "code.executable_xxh3")->affects_numerics());
  EXPECT_EQ(report.summary(), "diverged at step 1: params.lr 0.05 vs 0.02");
}

// (d) the same program, data and settings twice: identical, nothing numerics-relevant named.
TEST(LaunchScenarioTest, SameProgramAndSettingsTwiceAreIdentical) {
  testing::TempDir dir;
  const std::string a = by_hand(REPRO_PARAM_TRAINER, dir / "runs", "16");
  const std::string b = by_hand(REPRO_PARAM_TRAINER, dir / "runs", "16");
  const auto report = compare(a, b, 0);
  EXPECT_EQ(report.verdict(), proto::IDENTICAL);
  EXPECT_EQ(report.summary(), "identical: 20 steps bitwise equal");
  for (const auto& d : report.differences()) EXPECT_FALSE(d.affects_numerics()) << d.field();
}

TEST(LaunchCliTest, SetParamReachesTheProgramAsAnOverride) {
  testing::TempDir dir;
  const std::string plain = by_hand(REPRO_PARAM_TRAINER, dir / "runs", "16");
  const auto r = run_repro({"run", "--set", "params.lr=0.01", "--runs-dir", dir / "launched", "--", REPRO_PARAM_TRAINER,
                            dir / "runs", "16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string launched = last_line(r.out);
  EXPECT_EQ(fs::path(launched).parent_path(), fs::path(dir / "launched"));
  EXPECT_NE(r.out.find("param_trainer: lr 0.01\n"), std::string::npos) << r.out;  // its stdout passes through
  const auto h = read_run(launched).header;
  EXPECT_EQ(h.launcher(), "repro run");
  EXPECT_EQ(h.run_id(), fs::path(launched).filename().string()) << "the launcher named the run and its directory";
  ASSERT_EQ(h.overrides_size(), 1);
  EXPECT_EQ(h.overrides(0), "params.lr=0.01");
  ASSERT_GE(h.params_size(), 1);
  EXPECT_EQ(h.params(0).name(), "lr");
  EXPECT_EQ(h.params(0).value(), "0.01");
  EXPECT_EQ(h.params(0).default_value(), "0.05");
  EXPECT_EQ(h.params(0).source(), proto::PARAM_SOURCE_OVERRIDE);
  EXPECT_EQ(h.seed(), 11u);

  const auto report = compare(plain, launched, 1);
  EXPECT_EQ(report.verdict(), proto::DIVERGED);
  const auto* d = find_field(report, "params.lr");
  ASSERT_NE(d, nullptr) << report.DebugString();
  EXPECT_EQ(d->explanation(), "params.lr 0.05 vs 0.01 (B: override)");
  EXPECT_EQ(report.summary(), "diverged at step 1: params.lr 0.05 vs 0.01");

  // A rerun passes the recorded override again: bitwise identical, the source still override.
  const auto rerun = run_repro({"rerun", launched, "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err << rerun.out;
  const auto rerun_report = parse_report(rerun);
  EXPECT_EQ(rerun_report.verdict(), proto::IDENTICAL);
  const auto again = read_run(rerun_report.run_b()).header;
  EXPECT_EQ(again.launcher(), "repro rerun");
  EXPECT_EQ(again.rerun_of(), h.run_id());
  EXPECT_EQ(again.run_id(), fs::path(rerun_report.run_b()).filename().string());
  ASSERT_EQ(again.overrides_size(), 1);
  EXPECT_EQ(again.params(0).source(), proto::PARAM_SOURCE_OVERRIDE);
}

// A config seed 0 draws the master seed; a rerun of the launched run passes it again.
TEST(LaunchCliTest, RerunOfALaunchedRunWithADrawnSeedIsIdentical) {
  testing::TempDir dir;
  const auto r = run_repro({"run", "--runs-dir", dir / "runs", "--", REPRO_PARAM_TRAINER, dir / "runs", "16", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run = last_line(r.out);
  const auto h = read_run(run).header;
  EXPECT_NE(h.seed(), 0u);
  EXPECT_NE(h.seed(), 11u);
  const auto rerun = run_repro({"rerun", run, "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err << rerun.out;
  const auto report = parse_report(rerun);
  EXPECT_EQ(report.verdict(), proto::IDENTICAL) << report.summary();
  EXPECT_EQ(read_run(report.run_b()).header.seed(), h.seed());
}

TEST(LaunchCliTest, SeedFlagAndArgumentsAfterDashesGoToTheProgramUntouched) {
  testing::TempDir dir;
  // "--json" and "--set" after -- are the program's (it ignores arguments after EXIT).
  const auto r = run_repro({"run", "--seed", "5", "--runs-dir", dir / "runs", "--", REPRO_PARAM_TRAINER, dir / "runs",
                            "8", "11", "0", "--json", "--set", "x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('{'), std::string::npos) << r.out;  // not JSON: --json was the program's
  const auto h = read_run(last_line(r.out)).header;
  EXPECT_EQ(h.seed(), 5u);
  EXPECT_EQ(h.config().seed(), 5u);
  ASSERT_EQ(h.argv_size(), 8);
  EXPECT_EQ(h.argv(5), "--json");
  EXPECT_EQ(h.argv(6), "--set");
  EXPECT_EQ(h.overrides_size(), 0);
}

TEST(LaunchCliTest, ExitStatusIsTheProgramsAndJsonKeepsStdoutForTheResult) {
  testing::TempDir dir;
  const auto r =
      run_repro({"run", "--json", "--runs-dir", dir / "runs", "--", REPRO_PARAM_TRAINER, dir / "runs", "8", "11", "4"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("param_trainer: lr 0.05"), std::string::npos) << r.err;  // the program's stdout
  EXPECT_EQ(r.out.find("param_trainer:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"status\": \"finished\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"exit_code\": 4"), std::string::npos) << r.out;
}

TEST(LaunchCliTest, MissingProgramIsBadInputAndWritesNothing) {
  testing::TempDir dir;
  const auto r = run_repro({"run", "--runs-dir", dir / "runs", "--", dir / "no-such-program", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "repro: PROGRAM: " + (dir / "no-such-program") + " does not exist\n");
  EXPECT_FALSE(fs::exists(dir / "runs"));
  const auto not_exec = run_repro({"run", "--runs-dir", dir / "runs", "--", testing::source_path("README.md")});
  EXPECT_EQ(not_exec.exit_code, 2);
  EXPECT_NE(not_exec.err.find("is not an executable file"), std::string::npos) << not_exec.err;
  const auto on_path = run_repro({"run", "--runs-dir", dir / "runs", "--", "no-such-program-on-path"});
  EXPECT_EQ(on_path.exit_code, 2);
  EXPECT_NE(on_path.err.find("no-such-program-on-path not found on PATH"), std::string::npos) << on_path.err;
  const auto bad_set =
      run_repro({"run", "--set", "params.9=1", "--runs-dir", dir / "runs", "--", REPRO_PARAM_TRAINER, "x", "1"});
  EXPECT_EQ(bad_set.exit_code, 2);
  EXPECT_NE(bad_set.err.find("--set params.9=1: '9' is not a parameter name"), std::string::npos) << bad_set.err;
  const auto bad_seed = run_repro({"run", "--seed", "0", "--", REPRO_PARAM_TRAINER, "x", "1"});
  EXPECT_EQ(bad_seed.exit_code, 2);
  EXPECT_EQ(bad_seed.err, "repro: --seed: '0' is not a positive integer\n");
  const auto config_too =
      run_repro({"run", "--config", testing::config_path("mlp_synthetic.textproto"), "--", REPRO_PARAM_TRAINER});
  EXPECT_EQ(config_too.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

// A program that records nothing (no Session): internal error, exit 3, naming its status.
TEST(LaunchCliTest, ProgramThatRecordsNoRunIsAnInternalError) {
  testing::TempDir dir;
  const auto r = run_repro({"run", "--runs-dir", dir / "runs", "--", "true"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("true exited with status 0 without recording a run in " + (dir / "runs") + "/"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "runs")) << "nothing left behind that looks like a run";
}

TEST(LaunchCliTest, HelpShowsBothForms) {
  const auto r = run_repro({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(
      r.out.find(
          "repro run [--set path=value]... [--seed N] [--runs-dir DIR] [--rehash] [--json] [JOB] -- PROGRAM [ARGS...]"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("JOB: [--nproc N] [--nnodes M --node-rank R --master-addr HOST --master-port P]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("--seed N"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace repro
