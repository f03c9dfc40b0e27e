// What makes a record.pb a run (run/record.cc, validate_header): an empty, truncated or
// header-less record is refused naming the file, and list_runs skips it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "repro/error.h"
#include "repro/record.h"
#include "testutil.h"
#include "util/env_names.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

std::string make_run(const std::string& dir, const std::string& run_id) {
  proto::RunRecord h;
  h.set_run_id(run_id);
  h.set_status(proto::FINISHED);
  RunWriter::create(dir, h);
  return dir;
}

Error read_error(const std::string& dir) {
  return testing::thrown_error([&] { read_run(dir); });
}

TEST(RecordHeaderTest, CreateWritesTheSchemaVersion) {
  testing::TempDir tmp;
  const std::string run = make_run(tmp / "r", "r-1");
  EXPECT_EQ(read_run(run).header.schema_version(), kRunRecordSchemaVersion);
}

TEST(RecordHeaderTest, AnEmptyRecordIsNotARun) {
  testing::TempDir tmp;
  const std::string run = make_run(tmp / "r", "r-1");
  testing::write_file(run + "/record.pb", "");
  const Error e = read_error(run);
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()), run + "/record.pb: is empty (not a run record)");
}

TEST(RecordHeaderTest, ARecordWithoutRunIdOrSchemaVersionIsNotARun) {
  testing::TempDir tmp;
  const std::string run = make_run(tmp / "r", "r-1");
  proto::RunRecord h;
  h.set_schema_version(kRunRecordSchemaVersion);
  testing::write_file(run + "/record.pb", h.SerializeAsString());
  EXPECT_EQ(std::string(read_error(run).what()), run + "/record.pb: has no run id (not a run record, or truncated)");
  h.clear_schema_version();
  h.set_run_id("r-1");
  testing::write_file(run + "/record.pb", h.SerializeAsString());
  EXPECT_EQ(std::string(read_error(run).what()),
            run + "/record.pb: has no schema_version (not a run record, or truncated)");
}

TEST(RecordHeaderTest, ARecordThatIsAFifoIsNamedAsOne) {
  testing::TempDir tmp;
  const std::string run = make_run(tmp / "r", "r-1");
  fs::remove(run + "/record.pb");
  ASSERT_EQ(mkfifo((run + "/record.pb").c_str(), 0644), 0);
  EXPECT_EQ(std::string(read_error(run).what()), run + "/record.pb: run record is a FIFO, not a regular file");
}

TEST(RecordHeaderTest, AStreamThatIsADeviceIsRefused) {
  testing::TempDir tmp;
  const std::string run = make_run(tmp / "r", "r-1");
  fs::remove(run + "/steps.bin");
  fs::create_symlink("/dev/zero", run + "/steps.bin");
  EXPECT_EQ(std::string(read_error(run).what()), run + "/steps.bin: is a character device, not a regular file");
}

TEST(RecordHeaderTest, AFullDiskWhileAppendingIsAnIoError) {
  testing::TempDir tmp;
  proto::RunRecord h;
  h.set_run_id("r-1");
  auto writer = RunWriter::create(tmp / "r", h);
  proto::StepRecord step;
  step.set_step(0);
  writer->append_step(step);
  ::setenv(internal::kEnvFaultEnospc, "r/steps.bin", 1);
  const Error e = testing::thrown_error([&] { writer->flush(); });
  ::unsetenv(internal::kEnvFaultEnospc);
  EXPECT_EQ(e.kind(), ErrorKind::kIo);
  EXPECT_EQ(std::string(e.what()), tmp / "r/steps.bin" + ": write failed: No space left on device");
  writer.reset();  // does not try (and fail) again
  EXPECT_EQ(read_run(tmp / "r").steps.size(), 0u);
}

TEST(RecordHeaderTest, ListRunsSkipsAnEmptyRecord) {
  testing::TempDir tmp;
  make_run(tmp / "runs/a", "a");
  const std::string b = make_run(tmp / "runs/b", "b");
  testing::write_file(b + "/record.pb", "");
  const auto runs = list_runs(tmp / "runs");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(fs::path(runs[0]).filename(), "a");
}

}  // namespace
}  // namespace repro
