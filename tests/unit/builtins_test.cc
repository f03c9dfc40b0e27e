// The harness without the built-in models (run/builtins.h): what a program that links only
// reprotorch::harness gets, against the same program with models/ registered.
#include "run/builtins.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "models/models.h"
#include "repro/config.h"
#include "repro/error.h"
#include "repro/session.h"
#include "repro/trainer.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// Each test starts without built-ins and leaves them registered, as the test main does.
class BuiltinsTest : public ::testing::Test {
 protected:
  void SetUp() override { internal::clear_builtins(); }
  void TearDown() override { models::register_builtins(); }
};

proto::RunConfig fashion_config(const std::string& runs_dir) {
  proto::RunConfig config = parse_config(
      "seed: 3\nmodel { mlp {} }\ntrain { steps: 1 }\nrecord { runs_dir: \"" + runs_dir + "\" }\n", "test");
  resolve_config(&config);
  return config;
}

TEST_F(BuiltinsTest, TrainWithoutBuiltinsIsAUsageErrorBeforeAnyRunDirectory) {
  testing::TempDir runs;
  const proto::RunConfig config = fashion_config(runs.path().string());
  try {
    train(config);
    FAIL() << "train() ran without built-in models";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("repro::train"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("register_builtins"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(runs.path())) << "no run directory for a program without built-ins";
}

TEST_F(BuiltinsTest, DataSourceIsCheckedOnlyWhereTheBuiltinSourcesAreLinked) {
  proto::RunConfig config = fashion_config("runs");
  config.mutable_data()->set_source("parquet");
  EXPECT_EQ(testing::error_message([&] { validate_config(config, "c.textproto"); }), "(no error)");
  models::register_builtins();
  EXPECT_NE(testing::error_message([&] { validate_config(config, "c.textproto"); }).find("data.source"),
            std::string::npos);
}

TEST_F(BuiltinsTest, SessionRecordsTheBuiltinDataFilesOnlyWhenTheyAreLinked) {
  testing::TempDir runs;
  SessionOptions options;
  options.runs_dir = runs.path().string();
  options.handle_signals = false;
  options.log_file = false;
  {
    Session plain(fashion_config(runs.path().string()), options);
    EXPECT_EQ(plain.header().data().source(), "fashion-mnist");
    EXPECT_EQ(plain.header().data().files_size(), 0) << "a user program's own data is not the built-in source's";
    plain.finish();
  }
  models::register_builtins();
  Session with_builtins(fashion_config(runs.path().string()), options);
  EXPECT_EQ(with_builtins.header().data().files_size(), 4) << "the four Fashion-MNIST files, fingerprinted";
  with_builtins.finish();
}

}  // namespace
}  // namespace repro
