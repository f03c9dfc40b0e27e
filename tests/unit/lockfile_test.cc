#include "env/lockfile.h"

#include <gtest/gtest.h>

#include "repro/environment.h"
#include "repro/error.h"
#include "testutil.h"

namespace repro::internal {
namespace {

TEST(LockfileTest, ParsesPackagesIgnoringCommentsAndBlankLines) {
  const auto pkgs = parse_lock("# header\n\nlibfoo-dev   1.2-3  # why\n  bar 1:0.1~git\n", "x.lock");
  ASSERT_EQ(pkgs.size(), 2u);
  EXPECT_EQ(pkgs[0].name, "libfoo-dev");
  EXPECT_EQ(pkgs[0].version, "1.2-3");
  EXPECT_EQ(pkgs[0].line, 3);
  EXPECT_EQ(pkgs[1].name, "bar");
  EXPECT_EQ(pkgs[1].version, "1:0.1~git");
}

TEST(LockfileTest, MalformedLineNamesFileAndLine) {
  try {
    parse_lock("a 1\nb 2\nc 3 extra\n", "x.lock");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_EQ(std::string(e.what()).rfind("x.lock:3: ", 0), 0u) << e.what();
  }
  EXPECT_THROW(parse_lock("a 1\na 2\n", "x.lock"), Error);
  EXPECT_THROW(parse_lock("# nothing\n", "x.lock"), Error);
}

TEST(LockfileTest, ReadsInstalledVersionsFromDpkgStatus) {
  testing::TempDir dir;
  testing::write_file(dir / "status",
                      "Package: a\nStatus: install ok installed\nVersion: 1.0\n\n"
                      "Package: b\nStatus: deinstall ok config-files\nVersion: 2.0\n\n"
                      "Package: c\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:3.0-1\n");
  const auto v = installed_packages(dir / "status");
  EXPECT_EQ(v.size(), 2u);
  EXPECT_EQ(v.at("a"), "1.0");
  EXPECT_EQ(v.at("c"), "1:3.0-1");
  EXPECT_EQ(v.count("b"), 0u);
}

TEST(LockfileTest, VerifyListsChangedAndMissingPackagesInLockOrder) {
  testing::TempDir dir;
  testing::write_file(dir / "status",
                      "Package: a\nStatus: install ok installed\nVersion: 1.0\n\n"
                      "Package: c\nStatus: install ok installed\nVersion: 3.0\n");
  testing::write_file(dir / "ok.lock", "a 1.0\nc 3.0\n");
  EXPECT_TRUE(verify_lock_file(dir / "ok.lock", dir / "status").matches());

  testing::write_file(dir / "bad.lock", "c 3.1\na 1.0\nb 2.0\n");
  const auto check = verify_lock_file(dir / "bad.lock", dir / "status");
  EXPECT_FALSE(check.matches());
  ASSERT_EQ(check.mismatches_size(), 2);
  EXPECT_EQ(check.mismatches(0).name(), "c");
  EXPECT_EQ(check.mismatches(0).locked(), "3.1");
  EXPECT_EQ(check.mismatches(0).installed(), "3.0");
  EXPECT_EQ(check.mismatches(1).name(), "b");
  EXPECT_EQ(check.mismatches(1).installed(), "");
}

TEST(LockfileTest, MissingLockFileIsAnInputErrorWithTheReason) {
  testing::TempDir dir;
  try {
    verify_lock_file(dir / "none.lock", dir / "status");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_EQ(std::string(e.what()), dir / "none.lock" + ": cannot read lock file: No such file or directory");
  }
}

TEST(LockfileTest, ProjectLockMatchesThisMachine) {
  // tools/bootstrap ran before the tests, so the real lock must hold here.
  const auto check = verify_lock_file(testing::source_path("environment.lock"));
  EXPECT_TRUE(check.matches()) << to_json(check);
}

}  // namespace
}  // namespace repro::internal
