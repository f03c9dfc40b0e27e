// The rerun/compare scenarios: each a fresh-process test asserting that the report names the
// cause. Reports are read through `--json` (protobuf's JSON mapping of ComparisonReport).
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "proto/report.pb.h"
#include "report_util.h"
#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::last_line;
using testing::parse_report;
using testing::run_repro;

using testing::config_path;

std::string run_config(const std::string& config, const std::string& runs, const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"run", "--config", config, "--runs-dir", runs};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  const auto r = run_repro(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

const proto::Difference* find_difference(const proto::ComparisonReport& report, const std::string& part) {
  for (const auto& d : report.differences()) {
    if (d.field().find(part) != std::string::npos) return &d;
  }
  return nullptr;
}

// a) identical rerun → identical, exit 0.
TEST(RerunScenarioTest, IdenticalRerunIsIdentical) {
  testing::TempDir runs;
  const std::string a = run_config(config_path("mlp_synthetic.textproto"), runs.path().string(), {"train.steps=40"});
  const auto r = run_repro({"rerun", a, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto report = parse_report(r);
  EXPECT_EQ(report.verdict(), proto::IDENTICAL);
  EXPECT_EQ(report.steps_compared(), 40);
  EXPECT_FALSE(report.has_first_divergent_step());
  const RunData rerun = read_run(report.run_b());
  EXPECT_EQ(rerun.header.rerun_of(), read_run(a).header.run_id());
  EXPECT_EQ(rerun.header.run_id(), fs::path(report.run_b()).filename().string()) << "the id names the directory";
  EXPECT_EQ(read_run(a).header.run_id(), fs::path(a).filename().string());
  const auto text = run_repro({"rerun", a, "--no-color"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("identical"), std::string::npos) << text.out;
}

// b) one byte of a data file changed under the same path → rerun refuses and names the file.
TEST(RerunScenarioTest, ChangedDataFileIsRefusedAndNamed) {
  testing::TempDir dir;
  std::string csv = "x1,x2,label\n";
  for (int i = 0; i < 64; ++i)
    csv += std::to_string(i % 7) + "," + std::to_string((i * 3) % 5) + "," + std::to_string(i % 2) + "\n";
  const std::string data = dir / "points.csv";
  testing::write_file(data, csv);
  testing::write_file(dir / "csv.textproto",
                      "seed: 5\nmodel { mlp { hidden: 8 } }\n"
                      "data { source: \"csv\" path: \"" +
                          data +
                          "\" csv_features: \"x1\" csv_features: \"x2\" }\n"
                          "train { steps: 10 batch_size: 8 }\n");
  const std::string a = run_config(dir / "csv.textproto", dir / "runs", {});
  csv[csv.find("\n1,") + 1] = '2';  // one byte, same path, still a valid file
  testing::write_file(data, csv);

  const auto r = run_repro({"rerun", a, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // refused: the input is not the recorded one
  const auto report = parse_report(r);
  EXPECT_EQ(report.verdict(), proto::INCOMPARABLE);
  EXPECT_NE(report.summary().find("points.csv content changed"), std::string::npos) << report.summary();
  EXPECT_EQ(list_runs(dir / "runs").size(), 1u) << "refused before training: no new run";

  const auto allowed = run_repro({"rerun", a, "--json", "--allow-data-change"});
  const auto allowed_report = parse_report(allowed);
  EXPECT_EQ(list_runs(dir / "runs").size(), 2u);
  const auto* d = find_difference(allowed_report, "data");
  ASSERT_NE(d, nullptr) << allowed.out;
  EXPECT_NE(d->explanation().find("points.csv"), std::string::npos) << d->explanation();
}

// c) one hyperparameter overridden on the command line → diverged, the config field named.
TEST(RerunScenarioTest, OverriddenHyperparameterIsNamed) {
  testing::TempDir runs;
  const std::string a = run_config(config_path("mlp_synthetic.textproto"), runs.path().string(), {"train.steps=30"});
  const std::string b =
      run_config(config_path("mlp_synthetic.textproto"), runs.path().string(), {"train.steps=30", "optimizer.lr=0.05"});
  const auto r = run_repro({"compare", a, b, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  const auto report = parse_report(r);
  EXPECT_EQ(report.verdict(), proto::DIVERGED);
  ASSERT_TRUE(report.has_first_divergent_step());
  EXPECT_EQ(report.first_divergent_step(), 1) << "step 0's loss comes before the first update";
  const auto* d = find_difference(report, "optimizer.lr");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->affects_numerics());
}

// d) a different intra-op thread count → the environment difference, affects_numerics true.
TEST(RerunScenarioTest, ThreadCountDifferenceIsNamed) {
  testing::TempDir runs;
  const std::string a = run_config(config_path("mlp_synthetic.textproto"), runs.path().string(), {"train.steps=20"});
  const std::string b = run_config(config_path("mlp_synthetic.textproto"), runs.path().string(),
                                   {"train.steps=20", "determinism.intra_op_threads=2"});
  const auto report = parse_report(run_repro({"compare", a, b, "--json"}));
  bool environment_named = false;
  for (const auto& d : report.differences()) {
    if (d.category() == "environment" && d.field().find("intra_op") != std::string::npos) {
      environment_named = true;
      EXPECT_TRUE(d.affects_numerics());
      EXPECT_NE(d.explanation().find("reduction"), std::string::npos) << d.explanation();
    }
  }
  EXPECT_TRUE(environment_named) << report.DebugString();
}

// e) a different seed → diverged at step 0, the seed named.
TEST(RerunScenarioTest, DifferentSeedDivergesAtStepZero) {
  testing::TempDir runs;
  const std::string a = run_config(config_path("mlp_synthetic.textproto"), runs.path().string(), {"train.steps=20"});
  const std::string b =
      run_config(config_path("mlp_synthetic.textproto"), runs.path().string(), {"train.steps=20", "seed=43"});
  const auto r = run_repro({"compare", a, b, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  const auto report = parse_report(r);
  EXPECT_EQ(report.verdict(), proto::DIVERGED);
  EXPECT_EQ(report.first_divergent_step(), 0);
  ASSERT_NE(find_difference(report, "seed"), nullptr) << report.DebugString();
}

// f) a user's program whose model draws from an unseeded std::random_device → rerun diverged.
TEST(RerunScenarioTest, UnseededUserProgramDivergesAndTheStepIsNamed) {
  testing::TempDir runs;
  const auto seeded = testing::run_process({REPRO_USER_TRAINER, runs / "seeded"});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  const auto same = run_repro({"rerun", last_line(seeded.out), "--json"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(parse_report(same).verdict(), proto::IDENTICAL);

  const auto noisy = testing::run_process({REPRO_USER_TRAINER, runs / "noisy", "--unseeded-noise"});
  ASSERT_EQ(noisy.exit_code, 0) << noisy.err;
  const auto r = run_repro({"rerun", last_line(noisy.out), "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto report = parse_report(r);
  EXPECT_EQ(report.verdict(), proto::DIVERGED);
  ASSERT_TRUE(report.has_first_divergent_step());
  EXPECT_EQ(report.first_divergent_step(), 0);
  EXPECT_EQ(read_run(report.run_b()).header.origin(), "session");
}

// A run of a copy of the user trainer at `exe`, recorded under dir/runs: the copy can then be
// changed or removed.
testing::ProcessResult run_own_copy_of_user_trainer(const testing::TempDir& dir, const std::string& exe) {
  fs::copy_file(REPRO_USER_TRAINER, exe);
  fs::permissions(exe, fs::perms::owner_all);
  return testing::run_process({exe, dir / "runs"});
}

TEST(RerunScenarioTest, ChangedExecutableIsRefusedUnlessAllowed) {
  testing::TempDir dir;
  const std::string exe = dir / "user_trainer";
  const auto made = run_own_copy_of_user_trainer(dir, exe);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::ofstream(exe, std::ios::app | std::ios::binary) << '\0';
  const auto r = run_repro({"rerun", last_line(made.out), "--json"});
  EXPECT_EQ(r.exit_code, 2);  // refused
  EXPECT_NE(parse_report(r).summary().find("executable changed"), std::string::npos) << r.out;
  const auto allowed = run_repro({"rerun", last_line(made.out), "--allow-changed-code", "--json"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
}

// A program whose executable is gone cannot be re-executed, even when a changed executable is
// allowed: bad input (exit 2) naming it, before anything runs — not an internal error.
TEST(RerunScenarioTest, DeletedExecutableIsBadInputNamingIt) {
  testing::TempDir dir;
  const std::string exe = dir / "user_trainer";
  const auto made = run_own_copy_of_user_trainer(dir, exe);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string recorded = read_run(last_line(made.out)).header.code().executable_path();
  ASSERT_EQ(fs::path(recorded).filename(), "user_trainer");
  fs::remove(exe);
  const auto r = run_repro({"rerun", last_line(made.out), "--allow-changed-code"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  ASSERT_EQ(r.err_lines().size(), 2u) << r.err;  // the warning that the code changed, then the error
  EXPECT_EQ(r.err_lines()[1],
            "repro: " + last_line(made.out) + "/record.pb: the recorded executable: " + recorded + " does not exist");
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(list_runs(dir / "runs").size(), 1u);
}

// The library names the option that allows a refused rerun; the command line prints its flag.
TEST(RerunScenarioTest, RefusalNamesTheFlagThatAllowsIt) {
  testing::TempDir dir;
  const std::string exe = dir / "user_trainer";
  const auto made = run_own_copy_of_user_trainer(dir, exe);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::ofstream(exe, std::ios::app | std::ios::binary) << '\0';
  const auto r = run_repro({"rerun", last_line(made.out), "--no-color"});
  EXPECT_EQ(r.exit_code, 2);  // refused
  EXPECT_NE(r.out.find("(--allow-changed-code runs anyway)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("RerunOptions::"), std::string::npos) << r.out;
  const auto trace = run_repro({"trace", last_line(made.out), "--step", "0"});
  EXPECT_EQ(trace.exit_code, 2);
  ASSERT_FALSE(trace.err_lines().empty());
  const std::string error = trace.err_lines().back();
  ASSERT_GE(error.size(), 35u) << error;
  EXPECT_EQ(error.rfind("repro: cannot re-execute " + last_line(made.out) + ": executable changed", 0), 0u) << error;
  EXPECT_EQ(error.substr(error.size() - 35), " (--allow-changed-code runs anyway)") << error;
}

// g) an interrupted original → compared over the common steps, and the report says so.
TEST(RerunScenarioTest, InterruptedRunIsComparedOverCommonSteps) {
  testing::TempDir runs, io;
  const std::string complete = run_config(config_path("mlp_synthetic.textproto"), runs / "complete",
                                          {"train.steps=5000", "record.flush_every=5"});
  auto started = testing::start_process(
      {testing::repro_binary(), "run", "--config", config_path("mlp_synthetic.textproto"), "--runs-dir", runs / "cut",
       "--set", "train.steps=1000000", "--set", "record.flush_every=5"},
      {}, "", io.path().string());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto dirs = list_runs(runs / "cut");
    if (!dirs.empty() && read_run(dirs[0]).steps.size() >= 50) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(started.pid, SIGINT);
  testing::wait_process(started);
  const std::string cut = list_runs(runs / "cut").at(0);
  const auto r = run_repro({"compare", cut, complete, "--json"});
  const auto report = parse_report(r);
  EXPECT_GE(report.steps_compared(), 50);
  EXPECT_LT(report.steps_compared(), 5000);
  EXPECT_FALSE(report.stopped_early().empty());
  EXPECT_NE(report.stopped_early().find("interrupted"), std::string::npos) << report.stopped_early();
  EXPECT_FALSE(report.has_first_divergent_step()) << "the common steps are bitwise equal";
}

// h) a corrupt or truncated record → exit 2 naming the file, never a crash.
TEST(RerunScenarioTest, CorruptRecordIsBadInputNamingTheFile) {
  testing::TempDir runs;
  const std::string a = run_config(config_path("mlp_synthetic.textproto"), runs.path().string(), {"train.steps=10"});
  const std::string b = run_config(config_path("mlp_synthetic.textproto"), runs.path().string(), {"train.steps=10"});
  std::string record = testing::read_file(b + "/record.pb");
  testing::write_file(b + "/record.pb", record.substr(0, record.size() / 2));
  for (const auto& args : std::vector<std::vector<std::string>>{{"compare", a, b}, {"rerun", b}, {"show", b}}) {
    const auto r = run_repro(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_NE(r.err.find(b), std::string::npos) << r.err;
  }
  const auto missing = run_repro({"rerun", runs / "nonexistent"});
  EXPECT_EQ(missing.exit_code, 2);
}

}  // namespace
}  // namespace repro
