// util/fileutil.h: the one writer of output files replaces regular files only, and its failures
// are I/O errors (exit 4) naming the file asked for.
#include "util/fileutil.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "repro/error.h"
#include "testutil.h"
#include "util/env_names.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using internal::write_file_atomic;

bool is_fifo(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

TEST(FileUtilTest, ReplacesARegularFile) {
  testing::TempDir dir;
  testing::write_file(dir / "out", "old");
  write_file_atomic(dir / "out", "new");
  EXPECT_EQ(testing::read_file(dir / "out"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(FileUtilTest, NeverReplacesAFifoOrADirectory) {
  testing::TempDir dir;
  ASSERT_EQ(mkfifo((dir / "pipe").c_str(), 0644), 0);
  const Error e = testing::thrown_error([&] { write_file_atomic(dir / "pipe", "x"); });
  EXPECT_EQ(e.kind(), ErrorKind::kIo);
  EXPECT_EQ(e.exit_code(), kExitIo);
  EXPECT_EQ(std::string(e.what()), dir / "pipe" + ": is a FIFO, not a regular file; not replacing it");
  EXPECT_TRUE(is_fifo(dir / "pipe"));
  fs::create_symlink(dir / "pipe", dir / "link");
  EXPECT_EQ(testing::error_message([&] { write_file_atomic(dir / "link", "x"); }),
            dir / "link" + ": is a FIFO, not a regular file; not replacing it");
  EXPECT_TRUE(fs::is_symlink(dir / "link"));
  fs::create_directory(dir / "ckpt");
  EXPECT_EQ(testing::error_message([&] { write_file_atomic(dir / "ckpt", "x"); }),
            dir / "ckpt" + ": is a directory, not a regular file; not replacing it");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 3);  // no temporaries
}

TEST(FileUtilTest, NeverReplacesACharacterDevice) {
  testing::TempDir dir;
  const std::string node = dir / "null";
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) GTEST_SKIP() << "mknod needs CAP_MKNOD";
  EXPECT_EQ(testing::error_message([&] { write_file_atomic(node, "x"); }),
            node + ": is a character device, not a regular file; not replacing it");
  struct stat st {};
  ASSERT_EQ(::lstat(node.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(FileUtilTest, AFullDiskIsAnIoErrorAndLeavesNoTemporary) {
  testing::TempDir dir;
  testing::write_file(dir / "record.pb", "old");
  ::setenv(internal::kEnvFaultEnospc, "record.pb", 1);
  const Error e = testing::thrown_error([&] { write_file_atomic(dir / "record.pb", "new"); });
  ::unsetenv(internal::kEnvFaultEnospc);
  EXPECT_EQ(e.kind(), ErrorKind::kIo);
  EXPECT_EQ(std::string(e.what()), dir / "record.pb" + ": write failed: No space left on device");
  EXPECT_EQ(testing::read_file(dir / "record.pb"), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(FileUtilTest, AMissingDirectoryNamesTheFileAskedFor) {
  testing::TempDir dir;
  const Error e = testing::thrown_error([&] { write_file_atomic(dir / "none/junit.xml", "x"); });
  EXPECT_EQ(e.kind(), ErrorKind::kIo);
  EXPECT_EQ(std::string(e.what()), dir / "none/junit.xml" + ": cannot create: No such file or directory");
}

TEST(FileUtilTest, ExitCodesOfEachKind) {
  EXPECT_EQ(Error::usage("x").exit_code(), 2);
  EXPECT_EQ(Error::input("x").exit_code(), 2);
  EXPECT_EQ(Error::internal("x").exit_code(), 3);
  EXPECT_EQ(Error::io("x").exit_code(), 4);
}

}  // namespace
}  // namespace repro
