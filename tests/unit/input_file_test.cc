// util/input_file.h: the one opener of input files refuses what is not a regular file and reads
// no more than its bound.
#include "util/input_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "repro/error.h"
#include "testutil.h"
#include "util/fileutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using internal::read_input_file;

TEST(InputFileTest, ReadsARegularFileAndASymlinkToOne) {
  testing::TempDir dir;
  testing::write_file(dir / "a.txt", "seed: 7\n");
  fs::create_symlink(dir / "a.txt", dir / "link");
  EXPECT_EQ(read_input_file(dir / "a.txt", "config file", 8), "seed: 7\n");
  EXPECT_EQ(read_input_file(dir / "link", "config file"), "seed: 7\n");
  EXPECT_EQ(internal::read_whole_file(dir / "link"), "seed: 7\n");
}

TEST(InputFileTest, RefusesAFifoWithoutBlocking) {
  testing::TempDir dir;
  ASSERT_EQ(mkfifo((dir / "pipe").c_str(), 0644), 0);
  const Error e = testing::thrown_error([&] { read_input_file(dir / "pipe", "config file"); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()), dir / "pipe" + ": config file is a FIFO, not a regular file");
  EXPECT_EQ(testing::error_message([&] { internal::read_whole_file(dir / "pipe"); }),
            dir / "pipe" + ": is a FIFO, not a regular file");
  EXPECT_EQ(testing::error_message([&] { internal::check_input_file(dir / "pipe", "data file"); }),
            dir / "pipe" + ": data file is a FIFO, not a regular file");
  EXPECT_FALSE(internal::is_readable_kind(dir / "pipe"));
}

TEST(InputFileTest, RefusesDevicesAlsoThroughASymlink) {
  testing::TempDir dir;
  fs::create_symlink("/dev/zero", dir / "steps.bin");
  EXPECT_EQ(testing::error_message([&] { read_input_file(dir / "steps.bin", ""); }),
            dir / "steps.bin" + ": is a character device, not a regular file");
  EXPECT_EQ(testing::error_message([&] { read_input_file("/dev/null", "lock file"); }),
            "/dev/null: lock file is a character device, not a regular file");
  EXPECT_FALSE(internal::is_readable_kind("/dev/zero"));
}

TEST(InputFileTest, DirectoriesAndMissingFilesNameTheSystemsReason) {
  testing::TempDir dir;
  EXPECT_EQ(testing::error_message([&] { read_input_file(dir.path().string(), "config file"); }),
            dir.path().string() + ": cannot read config file: Is a directory");
  EXPECT_EQ(testing::error_message([&] { read_input_file(dir / "none", ""); }),
            dir / "none" + ": cannot open: No such file or directory");
}

TEST(InputFileTest, EnforcesTheSizeBound) {
  testing::TempDir dir;
  testing::write_file(dir / "big", std::string(9, 'x'));
  EXPECT_EQ(testing::error_message([&] { read_input_file(dir / "big", "envelope", 8); }),
            dir / "big" + ": envelope is 9 bytes, more than the limit of 8");
  EXPECT_EQ(read_input_file(dir / "big", "envelope", 9).size(), 9u);
  EXPECT_EQ(internal::kMaxTextInputBytes, 16u << 20);
}

TEST(InputFileTest, NamesFileTypes) {
  EXPECT_EQ(internal::file_type_name(S_IFIFO), "a FIFO");
  EXPECT_EQ(internal::file_type_name(S_IFCHR), "a character device");
  EXPECT_EQ(internal::file_type_name(S_IFBLK), "a block device");
  EXPECT_EQ(internal::file_type_name(S_IFSOCK), "a socket");
  EXPECT_EQ(internal::file_type_name(S_IFDIR), "a directory");
  EXPECT_EQ(internal::file_type_name(S_IFREG), "a regular file");
}

}  // namespace
}  // namespace repro
