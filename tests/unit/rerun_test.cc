// fleet/rerun.cc: what a rerun runs, checked before anything is written or started.
#include "repro/rerun.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

template <typename Fn>
Error error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no repro::Error thrown";
  return Error::internal("");
}

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
  const Error e = error_of([&] { rerun(recorded(dir, "repro run"), options); });
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
  const Error e = error_of([&] { rerun(run, options); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()),
            run.dir + "/record.pb: the recorded executable: " + (dir / "trainer") + " does not exist");
  EXPECT_FALSE(fs::exists(dir / "new-runs"));

  // An executable that is there, in a working directory that is not.
  run.header.clear_argv();
  run.header.add_argv("/bin/true");
  run.header.mutable_code()->set_executable_path("/bin/true");
  run.header.set_cwd(dir / "gone");
  const Error cwd = error_of([&] { rerun(run, options); });
  EXPECT_EQ(cwd.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(cwd.what()), run.dir + "/record.pb: the recorded working directory " + (dir / "gone") +
                                         " does not exist; cannot re-execute");
}

}  // namespace
}  // namespace repro
