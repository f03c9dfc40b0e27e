// fleet/rerun.cc: what a rerun runs, checked before anything is written or started.
#include "repro/rerun.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

RunData recorded(const testing::TempDir& dir, const std::string& origin) {
  RunData run;
  run.dir = dir / "runs/original";
  run.header.set_run_id("original");
  run.header.set_origin(origin);
  run.header.set_cwd(dir.path().string());
  return run;
}

TEST(RerunTest, MissingReproBinaryIsInputErrorBeforeAnythingIsWritten) {
  testing::TempDir dir;
  RerunOptions options;
  options.repro_binary = dir / "bin/repro";
  options.runs_dir = dir / "new-runs";
  const Error e = testing::thrown_error([&] { rerun(recorded(dir, "repro run"), options); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()), "RerunOptions::repro_binary: " + (dir / "bin/repro") + " does not exist");
  EXPECT_FALSE(fs::exists(dir / "new-runs"));
}

TEST(RerunTest, MissingRecordedExecutableIsInputErrorNotAChildExit) {
  testing::TempDir dir;
  RunData run = recorded(dir, "session");
  run.header.add_argv(dir / "trainer");
  run.header.mutable_code()->set_executable_path(dir / "trainer");
  run.header.mutable_code()->set_executable_xxh3("0123456789abcdef");
  RerunOptions options;
  options.runs_dir = dir / "new-runs";
  // Gone is a change of the code: refused, unless allowed; allowed, it cannot run.
  const RerunResult refused = rerun(run, options);
  ASSERT_EQ(refused.refused.size(), 1u);
  EXPECT_EQ(refused.refused[0].b(), "(missing)");
  options.allow_changed_code = true;
  const Error e = testing::thrown_error([&] { rerun(run, options); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()),
            run.dir + "/record.pb: the recorded executable: " + (dir / "trainer") + " does not exist");
  EXPECT_FALSE(fs::exists(dir / "new-runs"));

  // An executable that is there, in a working directory that is not.
  run.header.clear_argv();
  run.header.add_argv("/bin/true");
  run.header.mutable_code()->set_executable_path("/bin/true");
  run.header.set_cwd(dir / "gone");
  const Error cwd = testing::thrown_error([&] { rerun(run, options); });
  EXPECT_EQ(cwd.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(cwd.what()), run.dir + "/record.pb: the recorded working directory " + (dir / "gone") +
                                         " does not exist; cannot re-execute");
}

TEST(RerunTest, RefusalReportNamesTheOptionThatAllowsIt) {
  testing::TempDir dir;
  RunData run = recorded(dir, "repro run");
  auto* file = run.header.mutable_data()->add_files();
  file->set_role("train");
  file->set_path(dir / "points.csv");
  file->set_xxh3("0123456789abcdef");
  RerunOptions options;
  options.runs_dir = dir / "new-runs";
  const RerunResult result = rerun(run, options);
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_EQ(allowing_option(result.refused[0]), "allow_data_change");

  const proto::ComparisonReport report = refusal_report(run, result.refused);
  EXPECT_EQ(report.verdict(), proto::INCOMPARABLE);
  EXPECT_EQ(report.run_a(), run.dir);
  EXPECT_EQ(report.run_id_a(), "original");
  EXPECT_TRUE(report.run_b().empty());
  EXPECT_EQ(report.summary(), "refused: points.csv is gone or unreadable: " + (dir / "points.csv") +
                                  " (RerunOptions::allow_data_change runs anyway)");
  ASSERT_EQ(report.differences_size(), 1);
  EXPECT_EQ(report.differences(0).field(), "data.files[train]");
  EXPECT_EQ(report.differences(0).b(), "(missing)");
  EXPECT_EQ(rerun_and_compare(run, options, {}).SerializeAsString(), report.SerializeAsString());
  EXPECT_FALSE(fs::exists(dir / "new-runs"));

  proto::Difference model, code;
  model.set_category("model");
  code.set_category("code");
  EXPECT_EQ(allowing_option(model), "allow_model_change");
  EXPECT_EQ(allowing_option(code), "allow_changed_code");
}

}  // namespace
}  // namespace repro
