// fleet/wrapped_command.h: the program of a check entry or a program sweep, found and checked
// before anything runs.
#include "fleet/wrapped_command.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

void write_script(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  testing::write_file(path, "#!/bin/sh\nexit 0\n");
  fs::permissions(path, fs::perms::owner_all);
}

// Sets PATH for one test and puts the old one back.
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& value) : old_(std::getenv("PATH") ? std::getenv("PATH") : "") {
    setenv("PATH", value.c_str(), 1);
  }
  ~ScopedPath() { setenv("PATH", old_.c_str(), 1); }

 private:
  std::string old_;
};

TEST(WrappedCommandTest, AbsoluteProgramStaysAndArgumentsAreKept) {
  testing::TempDir dir;
  write_script(dir / "train");
  EXPECT_EQ(internal::resolve_command({dir / "train", "data", "--lr=0.1"}, "/elsewhere", "entry"),
            (std::vector<std::string>{dir / "train", "data", "--lr=0.1"}));
}

TEST(WrappedCommandTest, RelativeProgramIsTakenFromTheBaseDirectory) {
  testing::TempDir dir;
  write_script(dir / "bin/train");
  EXPECT_EQ(internal::resolve_command({"bin/train", "data"}, dir.path().string(), "entry"),
            (std::vector<std::string>{dir / "bin/train", "data"}));
  EXPECT_EQ(internal::resolve_command({"./bin/../bin/train"}, dir.path().string(), "entry"),
            (std::vector<std::string>{dir / "bin/train"}));
}

TEST(WrappedCommandTest, BareNameIsLookedUpOnPathThenInTheBaseDirectory) {
  testing::TempDir dir;
  write_script(dir / "path1/train");
  write_script(dir / "base/train");
  write_script(dir / "base/local");
  ScopedPath path(dir / "empty" + ":" + dir / "path1");
  EXPECT_EQ(internal::resolve_command({"train"}, dir / "base", "entry")[0], dir / "path1/train");
  EXPECT_EQ(internal::resolve_command({"local"}, dir / "base", "entry")[0], dir / "base/local");
}

TEST(WrappedCommandTest, MissingOrNotExecutableIsInputErrorNamingIt) {
  testing::TempDir dir;
  ScopedPath path(dir / "empty");
  const Error empty = testing::thrown_error([&] { internal::resolve_command({}, dir.path().string(), "entry 1"); });
  EXPECT_EQ(empty.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(empty.what()), "entry 1: no program given");
  EXPECT_EQ(testing::error_message([&] { internal::resolve_command({"nope"}, dir.path().string(), "entry 1"); }),
            "entry 1: nope is neither on PATH nor in " + dir.path().string());
  EXPECT_EQ(testing::error_message([&] { internal::resolve_command({"bin/nope"}, dir.path().string(), "entry 1"); }),
            "entry 1: " + (dir / "bin/nope") + " does not exist");
  testing::write_file(dir / "plain", "#!/bin/sh\n");
  const Error plain = testing::thrown_error([&] { internal::resolve_command({"./plain"}, dir.path().string(), "e"); });
  EXPECT_EQ(plain.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(plain.what()), "e: " + (dir / "plain") + " is not an executable file");
}

}  // namespace
}  // namespace repro
