// fleet/check.cc: what a check runs, checked before anything runs.
#include "repro/check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

TEST(CheckTest, MissingReproBinaryIsInputErrorBeforeAnythingRuns) {
  testing::TempDir dir;
  proto::CheckSuite suite;
  suite.add_entry()->set_config(testing::config_path("mlp_synthetic.textproto"));
  CheckOptions options;
  options.repro_binary = dir / "repro";
  options.report_dir = dir / "report";
  try {
    run_check(suite, dir.path().string(), options);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_EQ(std::string(e.what()), "CheckOptions::repro_binary: " + (dir / "repro") + " does not exist");
  }
  EXPECT_FALSE(fs::exists(dir / "report"));
}

proto::CheckReport example_report() {
  proto::CheckReport report;
  report.set_report_dir("nightly");
  auto* c = report.add_comparisons();
  c->set_entry("mlp");
  c->set_name("run 2 vs run 1");
  c->mutable_report()->set_verdict(proto::IDENTICAL);
  c->mutable_report()->set_summary("identical: 30 steps bitwise equal");
  auto* d = c->mutable_report()->add_differences();
  d->set_field("environment.hostname");
  d->set_explanation("another host");
  d->set_affects_numerics(false);
  auto* e = report.add_envelope_checks();
  e->set_entry("mlp");
  e->set_name("run 1 vs envelope");
  e->mutable_check()->set_inside(true);
  e->mutable_check()->set_steps_checked(30);
  return report;
}

TEST(CheckTest, TextReportEndsWithTheVerdictAndColoursItOnlyWhenAsked) {
  proto::CheckReport report = example_report();
  EXPECT_TRUE(check_passed(report));
  const std::string body =
      "mlp: run 2 vs run 1: identical: 30 steps bitwise equal\n"
      "    [other]    environment.hostname: another host\n"
      "mlp: run 1 vs envelope: inside the envelope: 30 steps and the final metrics within their bands\n";
  EXPECT_EQ(format_check_report(report, false),
            body + "check passed: 1 comparison(s), 1 envelope check(s), 0 error(s); report in nightly\n");
  EXPECT_EQ(
      format_check_report(report, true),
      body + "\033[32mcheck passed\033[0m: 1 comparison(s), 1 envelope check(s), 0 error(s); report in nightly\n");

  report.add_errors("broken: missing.textproto: cannot read");
  EXPECT_FALSE(check_passed(report));
  EXPECT_EQ(format_check_report(report, true),
            body +
                "error: broken: missing.textproto: cannot read\n"
                "\033[31mcheck FAILED\033[0m: 1 comparison(s), 1 envelope check(s), 1 error(s); report in nightly\n");
}

TEST(CheckTest, EnvelopeChecksWithoutAnEntryAreNamedByTheirRun) {
  proto::CheckReport report;
  auto* e = report.add_envelope_checks();
  e->set_name("runs/mlp-1");
  e->mutable_check()->set_inside(false);
  e->mutable_check()->set_first_step_outside(4);
  e->mutable_check()->set_loss(2.5);
  e->mutable_check()->set_low(0.5);
  e->mutable_check()->set_high(1.5);
  EXPECT_FALSE(check_passed(report));
  const std::string text = format_check_report(report, false);
  EXPECT_EQ(text.rfind("runs/mlp-1: outside the envelope at step 4: loss 2.5 not in ", 0), 0u) << text;
  EXPECT_EQ(text.substr(text.find('\n') + 1), "check FAILED: 0 comparison(s), 1 envelope check(s), 0 error(s)\n");
}

TEST(CheckTest, DivergedComparisonFailsTheCheck) {
  proto::CheckReport report = example_report();
  report.mutable_comparisons(0)->mutable_report()->set_verdict(proto::DIVERGED);
  EXPECT_FALSE(check_passed(report));
  report.mutable_comparisons(0)->mutable_report()->set_verdict(proto::WITHIN_TOLERANCE);
  EXPECT_TRUE(check_passed(report));
  report.mutable_envelope_checks(0)->mutable_check()->set_inside(false);
  EXPECT_FALSE(check_passed(report));
}

TEST(CheckTest, BadOptionsAreUsageErrorsNamingTheOption) {
  testing::TempDir dir;
  proto::CheckSuite suite;
  suite.add_entry()->set_config(testing::config_path("mlp_synthetic.textproto"));
  auto message = [&](const CheckOptions& options) {
    try {
      run_check(suite, dir.path().string(), options);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CheckOptions options;
  options.report_dir = dir / "report";
  options.jobs = 0;
  EXPECT_EQ(message(options), "CheckOptions::jobs: must be >= 1 (got 0)");
  options.jobs = 1;
  options.runs = 0;
  EXPECT_EQ(message(options), "CheckOptions::runs: must be >= 1 (got 0)");
  options.runs = 1;
  options.update_baseline = true;
  EXPECT_EQ(message(options), "CheckOptions::update_baseline: needs CheckOptions::baseline_dir");
  EXPECT_FALSE(fs::exists(dir / "report"));
}

// A suite entry names a config or a command, never both or neither; a command's program and
// cwd are checked before anything runs or is written (exit 2 from `repro check`).
TEST(CheckTest, CommandEntriesAreCheckedBeforeAnythingRuns) {
  testing::TempDir dir;
  CheckOptions options;
  options.report_dir = dir / "report";
  auto error_of = [&](const proto::CheckSuite& suite) {
    const Error e = testing::thrown_error([&] { run_check(suite, dir.path().string(), options); });
    EXPECT_EQ(e.kind(), ErrorKind::kInput) << e.what();
    return std::string(e.what());
  };
  proto::CheckSuite both;
  both.add_entry()->set_config(testing::config_path("mlp_synthetic.textproto"));
  auto* twice = both.add_entry();
  twice->set_name("train");
  twice->set_config("mlp.textproto");
  twice->add_command("./train");
  EXPECT_EQ(error_of(both), "suite entry 2 (train): give exactly one of config and command (both are set)");
  proto::CheckSuite neither;
  neither.add_entry()->set_name("empty");
  EXPECT_EQ(error_of(neither), "suite entry 1 (empty): give exactly one of config and command (neither is set)");

  proto::CheckSuite missing;
  missing.add_entry()->add_command("bin/train");
  missing.mutable_entry(0)->add_command("data.csv");
  EXPECT_EQ(error_of(missing), "suite entry 1 (train): command: " + (dir / "bin/train") + " does not exist");

  fs::create_directories(dir / "bin");
  testing::write_file(dir / "bin/train", "#!/bin/sh\n");
  EXPECT_EQ(error_of(missing), "suite entry 1 (train): command: " + (dir / "bin/train") + " is not an executable file");
  fs::permissions(dir / "bin/train", fs::perms::owner_all);
  missing.mutable_entry(0)->set_cwd("work");
  EXPECT_EQ(error_of(missing), "suite entry 1 (train): cwd " + (dir / "work") + " is not a directory");
  proto::CheckSuite config_cwd;
  config_cwd.add_entry()->set_config(testing::config_path("mlp_synthetic.textproto"));
  config_cwd.mutable_entry(0)->set_cwd("work");
  EXPECT_EQ(error_of(config_cwd),
            "suite entry 1 (mlp_synthetic): cwd is for command entries; a config entry runs `repro run`");
  EXPECT_FALSE(fs::exists(dir / "report"));
}

// An entry's tolerance and run count follow the same rules as everywhere, before anything runs.
TEST(CheckTest, EntryTolerancesAndRunsAreCheckedBeforeAnythingRuns) {
  testing::TempDir dir;
  CheckOptions options;
  options.report_dir = dir / "report";
  const auto error_of = [&](const std::function<void(proto::CheckEntry*)>& bad) {
    proto::CheckSuite suite;
    auto* e = suite.add_entry();
    e->set_config(testing::config_path("mlp_synthetic.textproto"));
    bad(e);
    const Error err = testing::thrown_error([&] { run_check(suite, dir.path().string(), options); });
    EXPECT_EQ(err.kind(), ErrorKind::kUsage) << err.what();
    return std::string(err.what());
  };
  EXPECT_EQ(error_of([](proto::CheckEntry* e) { e->set_rtol(-1); }),
            "suite entry 1 (mlp_synthetic): rtol: must be a finite number >= 0 (got -1)");
  EXPECT_EQ(error_of([](proto::CheckEntry* e) { e->set_atol(std::nan("")); }),
            "suite entry 1 (mlp_synthetic): atol: must be a finite number >= 0 (got nan)");
  EXPECT_EQ(error_of([](proto::CheckEntry* e) { e->set_from_step(-2); }),
            "suite entry 1 (mlp_synthetic): from_step: must be >= 0 (got -2)");
  EXPECT_EQ(error_of([](proto::CheckEntry* e) { e->set_runs(-1); }),
            "suite entry 1 (mlp_synthetic): runs: must be >= 1 (got -1)");
  EXPECT_FALSE(fs::exists(dir / "report"));
}

}  // namespace
}  // namespace repro
