// util/child.h and util/process.h: the executable, command line and environment of a child, and
// a missing executable as an Error before anything starts; malloc kept for the next step.
#include "util/child.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "repro/error.h"
#include "testutil.h"
#include "util/process.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

TEST(ChildTest, SelfExecutableIsThisBinary) {
  EXPECT_EQ(internal::self_executable(), fs::canonical("/proc/self/exe").string());
  EXPECT_EQ(fs::path(internal::self_executable()).filename(), "unit_tests");
}

TEST(ChildTest, MissingOrNonExecutableFileIsInputErrorNamingIt) {
  testing::TempDir dir;
  const Error missing = testing::thrown_error([&] { internal::require_executable(dir / "nope", "Opts::binary"); });
  EXPECT_EQ(missing.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(missing.what()), "Opts::binary: " + (dir / "nope") + " does not exist");

  testing::write_file(dir / "plain", "#!/bin/sh\n");
  fs::permissions(dir / "plain", fs::perms::owner_read | fs::perms::owner_write);
  const Error plain = testing::thrown_error([&] { internal::require_executable(dir / "plain", "Opts::binary"); });
  EXPECT_EQ(plain.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(plain.what()), "Opts::binary: " + (dir / "plain") + " is not an executable file");
  const Error directory =
      testing::thrown_error([&] { internal::require_executable(dir.path().string(), "Opts::binary"); });
  EXPECT_EQ(std::string(directory.what()), "Opts::binary: " + dir.path().string() + " is not an executable file");

  // A relative path is taken from the child's working directory, as execve there takes it.
  fs::permissions(dir / "plain", fs::perms::owner_all);
  EXPECT_NO_THROW(internal::require_executable("./plain", "Opts::binary", dir.path().string()));
  EXPECT_NO_THROW(internal::require_executable("/bin/sh", "Opts::binary"));
  EXPECT_EQ(internal::repro_binary_or_self("", "Opts::binary"), internal::self_executable());
  EXPECT_EQ(internal::repro_binary_or_self("/bin/sh", "Opts::binary"), "/bin/sh");
  EXPECT_EQ(testing::thrown_error([&] { internal::repro_binary_or_self(dir / "nope", "Opts::binary"); }).kind(),
            ErrorKind::kInput);
}

TEST(ChildTest, SpawnRefusesAMissingExecutableBeforeForking) {
  testing::TempDir dir;
  internal::ChildSpec spec;
  spec.argv = {dir / "gone", "--help"};
  spec.env = internal::current_environment();
  const Error e = testing::thrown_error([&] { internal::spawn(spec); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_NE(std::string(e.what()).find(dir / "gone"), std::string::npos) << e.what();

  // run_children checks every child first: the good one before the bad one never starts.
  internal::ChildSpec good;
  good.argv = {"/bin/sh", "-c", "touch " + (dir / "ran")};
  good.env = spec.env;
  int finished = 0;
  EXPECT_EQ(testing::thrown_error([&] {
              internal::run_children({good, spec}, 1, [&](std::size_t, int) { ++finished; });
            }).kind(),
            ErrorKind::kInput);
  EXPECT_EQ(finished, 0);
  EXPECT_FALSE(fs::exists(dir / "ran"));
}

TEST(ChildTest, ReproRunCommandLine) {
  EXPECT_EQ(internal::repro_run_argv("/usr/bin/repro", "c.textproto", {"train.steps=3", "seed=9"}),
            (std::vector<std::string>{"/usr/bin/repro", "run", "--config", "c.textproto", "--set", "train.steps=3",
                                      "--set", "seed=9"}));
  EXPECT_EQ(internal::repro_run_argv("repro", "c.textproto", {}),
            (std::vector<std::string>{"repro", "run", "--config", "c.textproto"}));
}

TEST(ChildTest, EnvironmentDropsReexecutedAndSetsTheRunDirectory) {
  setenv("REPRO_REEXECUTED", "1", 1);
  setenv("CHILD_TEST_KEPT", "kept", 1);
  setenv("CHILD_TEST_DROPPED", "ours", 1);
  internal::ChildEnvironment spec;
  spec.run_dir = "/tmp/runs/r1";
  spec.rerun_of = "mlp-1";
  spec.run_id = "r1";
  spec.drop = [](const std::string& name) { return name.rfind("CHILD_TEST_DROP", 0) == 0; };
  spec.set = {{"CHILD_TEST_DROPPED", "recorded"}, {"REPRO_TRACE_STEP", "2"}};
  const auto env = internal::child_environment(spec);
  unsetenv("REPRO_REEXECUTED");
  unsetenv("CHILD_TEST_KEPT");
  unsetenv("CHILD_TEST_DROPPED");
  EXPECT_EQ(env.count("REPRO_REEXECUTED"), 0u);
  EXPECT_EQ(env.at("REPRO_RUN_DIR"), "/tmp/runs/r1");
  EXPECT_EQ(env.at("REPRO_RERUN_OF"), "mlp-1");
  EXPECT_EQ(env.at("CHILD_TEST_KEPT"), "kept");
  EXPECT_EQ(env.at("CHILD_TEST_DROPPED"), "recorded");
  EXPECT_EQ(env.at("REPRO_TRACE_STEP"), "2");
  EXPECT_EQ(env.at("PATH"), std::getenv("PATH"));

  EXPECT_EQ(env.at("REPRO_RUN_ID"), "r1");

  // A launcher's id is for its own child: a child of that child makes its own.
  setenv("REPRO_RUN_ID", "r1", 1);
  internal::ChildEnvironment plain_spec;
  plain_spec.run_dir = "/tmp/runs/r2";
  const auto plain = internal::child_environment(plain_spec);
  unsetenv("REPRO_RUN_ID");
  EXPECT_EQ(plain.at("REPRO_RUN_DIR"), "/tmp/runs/r2");
  EXPECT_EQ(plain.count("REPRO_RERUN_OF"), 0u);
  EXPECT_EQ(plain.count("REPRO_RUN_ID"), 0u);
  // A relative run directory goes absolute (the child may start in another working directory).
  internal::ChildEnvironment relative;
  relative.run_dir = "runs/./r3";
  EXPECT_EQ(internal::child_environment(relative).at("REPRO_RUN_DIR"),
            (std::filesystem::current_path() / "runs/r3").string());
  EXPECT_EQ(testing::thrown_error([] { internal::child_environment({}); }).kind(), ErrorKind::kInternal);
}

#if defined(__GLIBC__)
// Whether a 30 MiB block comes from mmap (1) or the heap (0).
int mapped_by_a_block() {
  malloc_trim(0);
  const auto before = mallinfo2().hblks;
  auto* volatile block = static_cast<char*>(std::malloc(30 << 20));  // volatile: not elided
  block[0] = 1;
  const auto during = mallinfo2().hblks;
  std::free(block);
  return static_cast<int>(during - before);
}

// In a fresh process (the heap of this one holds what earlier tests freed, which may serve the
// block): exit 0 when a 30 MiB block comes from mmap under glibc's start threshold (128 KiB,
// pinned), is still mapped after the Session's setting while the user has set a malloc variable,
// and comes from the heap once the setting is made; 10, 11 or 12 naming the check that failed.
[[noreturn]] void check_freed_memory_kept() {
  mallopt(M_MMAP_THRESHOLD, 128 << 10);
  mallopt(M_TRIM_THRESHOLD, 128 << 10);
  if (mapped_by_a_block() != 1) std::_Exit(10);
  ::setenv("MALLOC_TRIM_THRESHOLD_", "131072", 1);
  internal::keep_freed_memory_for_reuse();
  if (mapped_by_a_block() != 1) std::_Exit(11);
  ::unsetenv("MALLOC_TRIM_THRESHOLD_");
  internal::keep_freed_memory_for_reuse();
  std::_Exit(mapped_by_a_block() == 0 ? 0 : 12);
}

TEST(ProcessTest, FreedMemoryIsKeptForTheNextStepUnlessTheUserChose) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // re-executes this binary: a fresh heap
  EXPECT_EXIT(check_freed_memory_kept(), ::testing::ExitedWithCode(0), "")
      << "10: glibc's start value did not map the block; 11: a user's malloc variable was "
         "overridden; 12: the block was still mapped after the setting";
}
#endif

}  // namespace
}  // namespace repro
