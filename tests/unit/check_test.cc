// fleet/check.cc: what a check runs, checked before anything runs.
#include "repro/check.h"

#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
}  // namespace repro
