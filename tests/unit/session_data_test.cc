// session/session_data.cc: Session::track_data and the command line's data (track_argv).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "repro/data.h"
#include "repro/digest.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/session.h"
#include "session_testutil.h"
#include "testutil.h"
#include "util/env_names.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// No digest cache: these tests read every file.
class SessionDataTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv(internal::kEnvDigestCache, "off", 1); }
  void TearDown() override { ::unsetenv(internal::kEnvDigestCache); }

  SessionOptions options(const std::vector<std::string>& argv) {
    SessionOptions o = testing::quiet_session_options(dir_ / "runs");
    o.argv = argv;
    return o;
  }
  std::string make_data() {
    const std::string data = dir_ / "data";
    fs::create_directories(data + "/sub");
    testing::write_file(data + "/a.csv", "1,2\n");
    testing::write_file(data + "/sub/b.csv", "3,4,5\n");
    return data;
  }
  testing::TempDir dir_;
};

const proto::InputFile* find_role(const proto::RunRecord& h, const std::string& role) {
  for (const auto& f : h.data().files()) {
    if (f.role() == role) return &f;
  }
  return nullptr;
}

TEST_F(SessionDataTest, TrackDataRecordsADirectoryAndKeepsItsManifest) {
  const std::string data = make_data();
  Session session(parse_config("seed: 1 data { source: \"synthetic\" }", "t"), options({"prog"}));
  session.track_data(data, "train");
  const auto* f = find_role(session.header(), "train");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path(), data);
  EXPECT_EQ(f->absolute_path(), data);
  EXPECT_TRUE(f->directory());
  EXPECT_EQ(f->file_count(), 2);
  EXPECT_EQ(f->size(), 10u);
  EXPECT_EQ(f->tracked_by(), proto::TRACKED_BY_SESSION);
  EXPECT_EQ(f->xxh3(), digest_path(data).xxh3);
  EXPECT_EQ(f->manifest(), "data/train.manifest.pb");
  const proto::DataManifest m = read_manifest(session.run_dir() + "/" + f->manifest());
  ASSERT_EQ(m.entries_size(), 2);
  EXPECT_EQ(m.entries(1).path(), "sub/b.csv");
  EXPECT_EQ(manifest_digest(m), f->xxh3());
  // On disk at once, not only at finish().
  EXPECT_EQ(read_run(session.run_dir()).header.data().files_size(), 1);

  // A single file, and the errors.
  testing::write_file(dir_ / "labels.bin", "abc");
  session.track_data(dir_ / "labels.bin", "labels");
  const auto* file = find_role(session.header(), "labels");
  ASSERT_NE(file, nullptr);
  EXPECT_FALSE(file->directory());
  EXPECT_EQ(file->xxh3(), digest_bytes("abc"));
  EXPECT_TRUE(file->manifest().empty());
  const Error twice = testing::thrown_error([&] { session.track_data(data, "train"); });
  EXPECT_EQ(twice.kind(), ErrorKind::kUsage);
  EXPECT_STREQ(twice.what(), ("track_data: role \"train\" is already tracked (" + data + ")").c_str());
  const Error missing = testing::thrown_error([&] { session.track_data(dir_ / "nope", "x"); });
  EXPECT_EQ(missing.kind(), ErrorKind::kInput);
  EXPECT_STREQ(missing.what(), (dir_ / "nope" + ": cannot track data: No such file or directory").c_str());
  EXPECT_EQ(testing::thrown_error([&] { session.track_data(data, ""); }).kind(), ErrorKind::kUsage);
  session.finish();
}

TEST_F(SessionDataTest, CommandLinePathsAreTrackedExceptTheProgramAndTheRuns) {
  const std::string data = make_data();
  const std::string exe = dir_ / "prog";
  testing::write_file(exe, "#!/bin/sh\n");
  testing::write_file(dir_ / "labels.bin", "abc");
  fs::create_directories(dir_ / "runs/old-run");
  ASSERT_EQ(mkfifo((dir_ / "pipe").c_str(), 0644), 0);
  const std::vector<std::string> argv = {exe,
                                         data,
                                         "--labels=" + dir_ / "labels.bin",
                                         dir_ / "runs",
                                         dir_ / "runs/old-run",
                                         "12",
                                         dir_ / "pipe",
                                         dir_.path().string()};
  Session session(parse_config("seed: 1 data { source: \"synthetic\" }", "t"), options(argv));
  const auto& files = session.header().data().files();
  ASSERT_EQ(files.size(), 2) << session.header().data().DebugString();
  EXPECT_EQ(files[0].role(), "argv[1]");
  EXPECT_EQ(files[0].tracked_by(), proto::TRACKED_BY_ARGV);
  EXPECT_TRUE(files[0].directory());
  EXPECT_EQ(files[0].manifest(), "data/argv-1.manifest.pb");
  EXPECT_TRUE(fs::exists(session.run_dir() + "/data/argv-1.manifest.pb"));
  EXPECT_EQ(files[1].role(), "argv[2]");
  EXPECT_EQ(files[1].path(), dir_ / "labels.bin");
  EXPECT_EQ(files[1].xxh3(), digest_bytes("abc"));

  // track_data takes an argv path over under its role: a change in it now refuses a rerun.
  session.track_data(data, "train");
  ASSERT_EQ(session.header().data().files_size(), 2);
  EXPECT_EQ(find_role(session.header(), "argv[1]"), nullptr);
  const auto* train = find_role(session.header(), "train");
  ASSERT_NE(train, nullptr);
  EXPECT_EQ(train->tracked_by(), proto::TRACKED_BY_SESSION);
  EXPECT_FALSE(fs::exists(session.run_dir() + "/data/argv-1.manifest.pb"));
  EXPECT_TRUE(fs::exists(session.run_dir() + "/data/train.manifest.pb"));
  session.finish();
}

TEST_F(SessionDataTest, TrackArgvOffTracksNothing) {
  const std::string data = make_data();
  SessionOptions o = options({"prog", data});
  o.track_argv = false;
  Session session(parse_config("seed: 1 data { source: \"synthetic\" }", "t"), o);
  EXPECT_EQ(session.header().data().files_size(), 0);
  session.finish();
}

}  // namespace
}  // namespace repro
