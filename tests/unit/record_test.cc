// Tests for run directories (harness/src/run/record.cc).
#include "repro/record.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>

#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string hostname() {
  char host[HOST_NAME_MAX + 1] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

proto::RunRecord make_header(const std::string& run_id, const std::string& started_at) {
  proto::RunRecord h;
  h.set_run_id(run_id);
  h.set_started_at(started_at);
  h.set_hostname(hostname());
  h.set_pid(getpid());
  h.set_status(proto::RUNNING);
  h.set_seed(1234);
  h.mutable_model()->set_name("mlp");
  return h;
}

proto::StepRecord make_step(std::int64_t step, float loss) {
  proto::StepRecord s;
  s.set_step(step);
  s.set_loss_f32(loss);
  s.set_lr(0.1);
  return s;
}

// A pid that is certainly not running: a child that exited and was reaped.
pid_t dead_pid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(RecordTest, CreateAppendFlushReadBack) {
  TempDir tmp;
  const std::string dir = tmp / "runs/run-1";  // the parent is created too
  {
    auto writer = RunWriter::create(dir, make_header("run-1", "2024-01-01T00:00:00Z"));
    EXPECT_EQ(writer->dir(), dir);
    for (int i = 0; i < 3; ++i) writer->append_step(make_step(i, 1.0f / static_cast<float>(i + 1)));
    proto::EvalRecord eval;
    eval.set_step(2);
    eval.set_split("test");
    (*eval.mutable_metrics())["accuracy"] = 0.875;
    writer->append_eval(eval);
    writer->flush();
  }
  const RunData run = read_run(dir);
  EXPECT_EQ(run.header.run_id(), "run-1");
  EXPECT_EQ(run.header.schema_version(), kRunRecordSchemaVersion);
  EXPECT_EQ(run.header.seed(), 1234u);
  EXPECT_EQ(run.status, proto::RUNNING);  // this process is alive
  EXPECT_FALSE(run.steps_torn);
  ASSERT_EQ(run.steps.size(), 3u);
  EXPECT_EQ(run.steps[2].step(), 2);
  EXPECT_EQ(run.steps[2].loss_f32(), 1.0f / 3.0f);
  ASSERT_EQ(run.evals.size(), 1u);
  EXPECT_EQ(run.evals[0].metrics().at("accuracy"), 0.875);
  EXPECT_EQ(entries(tmp / "runs"), std::vector<std::string>{"run-1"});  // no temporary left
  EXPECT_EQ(entries(dir), (std::vector<std::string>{"evals.bin", "record.pb", "steps.bin"}));
}

TEST(RecordTest, DestructorFlushesBufferedSteps) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  {
    auto writer = RunWriter::create(dir, make_header("r", "t"));
    writer->append_step(make_step(7, 0.25f));
  }
  const RunData run = read_run(dir);
  ASSERT_EQ(run.steps.size(), 1u);
  EXPECT_EQ(run.steps[0].step(), 7);
}

TEST(RecordTest, CreateOnExistingDirThrowsAndLeavesItUntouched) {
  TempDir tmp;
  const std::string dir = tmp / "existing";
  fs::create_directory(dir);
  testing::write_file(dir + "/mine.txt", "keep me");
  try {
    RunWriter::create(dir, make_header("r", "t"));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_EQ(std::string(e.what()), dir + ": run directory already exists");
  }
  EXPECT_EQ(entries(dir), std::vector<std::string>{"mine.txt"});
  EXPECT_EQ(testing::read_file(dir + "/mine.txt"), "keep me");
  EXPECT_EQ(entries(tmp.path()), std::vector<std::string>{"existing"});  // no temporary left
}

TEST(RecordTest, WriteHeaderReplacesTheRecord) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  auto header = make_header("r", "t");
  auto writer = RunWriter::create(dir, header);
  writer->append_step(make_step(0, 0.5f));
  header.set_status(proto::FINISHED);
  header.set_steps_completed(1);
  header.set_finished_at("2024-01-01T00:01:00Z");
  writer->write_header(header);  // also flushes the step
  const RunData run = read_run(dir);
  EXPECT_EQ(run.status, proto::FINISHED);
  EXPECT_EQ(run.header.finished_at(), "2024-01-01T00:01:00Z");
  EXPECT_EQ(run.header.steps_completed(), 1);
  EXPECT_EQ(run.steps.size(), 1u);
  EXPECT_EQ(entries(dir), (std::vector<std::string>{"evals.bin", "record.pb", "steps.bin"}));
}

TEST(RecordTest, RunningWithDeadProcessReadsAsInterrupted) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  auto header = make_header("r", "t");
  const pid_t pid = dead_pid();
  header.set_pid(pid);
  RunWriter::create(dir, header);
  const RunData run = read_run(dir);
  EXPECT_EQ(run.header.status(), proto::RUNNING);
  EXPECT_EQ(run.status, proto::INTERRUPTED);
  EXPECT_EQ(run.status_reason, "process " + std::to_string(pid) + " on " + hostname() +
                                   " is gone (killed?); steps up to the last flush are kept");
}

// A SIGKILLed process whose parent has not reaped it yet is a zombie: gone, not running.
TEST(RecordTest, RunningWithZombieProcessReadsAsInterrupted) {
  TempDir tmp;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(0);
  // Not reaped yet: wait until the kernel shows it as a zombie.
  for (int i = 0; i < 200; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    if (line.find(") Z") != std::string::npos) break;
    usleep(5000);
  }
  auto header = make_header("r", "t");
  header.set_pid(pid);
  RunWriter::create(tmp / "run", header);
  EXPECT_EQ(read_run(tmp / "run").status, proto::INTERRUPTED);
  int status = 0;
  waitpid(pid, &status, 0);
}

TEST(RecordTest, RunningOnThisHostWithLivePidStaysRunning) {
  TempDir tmp;
  RunWriter::create(tmp / "run", make_header("r", "t"));
  EXPECT_EQ(read_run(tmp / "run").status, proto::RUNNING);
}

TEST(RecordTest, RunningOnAnotherHostStaysRunning) {
  TempDir tmp;
  auto header = make_header("r", "t");
  header.set_hostname(hostname() + "-elsewhere");
  header.set_pid(dead_pid());
  RunWriter::create(tmp / "run", header);
  EXPECT_EQ(read_run(tmp / "run").status, proto::RUNNING);
}

TEST(RecordTest, MissingAndCorruptRecordsAreInputErrorsNamingThePath) {
  TempDir tmp;
  try {
    read_run(tmp / "nope");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_EQ(std::string(e.what()), tmp / "nope" + ": not a run directory (no record.pb)");
  }
  RunWriter::create(tmp / "run", make_header("r", "t"));
  testing::write_file(tmp / "run/record.pb", "this is not a run record");
  try {
    read_run(tmp / "run");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), tmp / "run/record.pb" + ": corrupt run record");
  }
}

TEST(RecordTest, NewerSchemaVersionIsRejected) {
  TempDir tmp;
  auto header = make_header("r", "t");
  header.set_schema_version(kRunRecordSchemaVersion + 1);
  fs::create_directory(tmp / "run");
  testing::write_file(tmp / "run/record.pb", header.SerializeAsString());
  try {
    read_run(tmp / "run");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("schema_version " + std::to_string(kRunRecordSchemaVersion + 1)),
              std::string::npos)
        << e.what();
  }
}

TEST(RecordTest, ReopenTruncatesTornTailSoAppendsContinue) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  {
    auto writer = RunWriter::create(dir, make_header("r", "t"));
    for (int i = 0; i < 4; ++i) writer->append_step(make_step(i, static_cast<float>(i)));
  }
  const std::string steps_path = dir + "/steps.bin";
  const std::string data = testing::read_file(steps_path);
  testing::write_file(steps_path, data.substr(0, data.size() - 2));  // tear the last frame
  RunData torn = read_run(dir);
  EXPECT_TRUE(torn.steps_torn);
  EXPECT_EQ(torn.steps.size(), 3u);
  {
    auto writer = RunWriter::reopen(dir);
    writer->append_step(make_step(3, 3.5f));
    writer->append_step(make_step(4, 4.5f));
  }
  const RunData run = read_run(dir);
  EXPECT_FALSE(run.steps_torn);
  ASSERT_EQ(run.steps.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(run.steps[static_cast<std::size_t>(i)].step(), i);
  EXPECT_EQ(run.steps[3].loss_f32(), 3.5f);
}

TEST(RecordTest, ReopenKeepsOnlyTheFirstRecordsWhenAsked) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  {
    auto writer = RunWriter::create(dir, make_header("r", "t"));
    for (int i = 0; i < 6; ++i) writer->append_step(make_step(i, static_cast<float>(i)));
    proto::EvalRecord eval;
    eval.set_split("validation");
    writer->append_eval(eval);
  }
  {
    auto writer = RunWriter::reopen(dir, {4, 0});
    writer->append_step(make_step(4, 40.0f));
  }
  const RunData run = read_run(dir);
  EXPECT_FALSE(run.steps_torn);
  ASSERT_EQ(run.steps.size(), 5u);
  EXPECT_EQ(run.steps[3].loss_f32(), 3.0f);
  EXPECT_EQ(run.steps[4].loss_f32(), 40.0f);
  EXPECT_TRUE(run.evals.empty());
  RunWriter::reopen(dir, {9, -1});  // more than there are: nothing changes
  EXPECT_EQ(read_run(dir).steps.size(), 5u);
}

TEST(RecordTest, ReopenMissingRunThrows) {
  TempDir tmp;
  EXPECT_THROW(RunWriter::reopen(tmp / "nope"), Error);
}

TEST(RecordTest, ListRunsSortsByStartTimeAndSkipsOthers) {
  TempDir tmp;
  const std::string runs = tmp / "runs";
  RunWriter::create(runs + "/b", make_header("b", "2024-01-02T00:00:00Z"));
  RunWriter::create(runs + "/a", make_header("a", "2024-01-03T00:00:00Z"));
  RunWriter::create(runs + "/c", make_header("c", "2024-01-01T00:00:00Z"));
  RunWriter::create(runs + "/d", make_header("d", "2024-01-01T00:00:00Z"));  // tie: by name
  fs::create_directory(runs + "/not-a-run");
  fs::create_directory(runs + "/.e.tmp-1");
  testing::write_file(runs + "/.e.tmp-1/record.pb", make_header("e", "2023").SerializeAsString());
  testing::write_file(runs + "/file.txt", "x");
  EXPECT_EQ(list_runs(runs), (std::vector<std::string>{runs + "/c", runs + "/d", runs + "/b", runs + "/a"}));
  EXPECT_TRUE(list_runs(tmp / "missing").empty());
}

TEST(RecordTest, StatusNames) {
  EXPECT_EQ(status_name(proto::FINISHED), "finished");
  EXPECT_EQ(status_name(proto::FAILED), "failed");
  EXPECT_EQ(status_name(proto::INTERRUPTED), "interrupted");
  EXPECT_EQ(status_name(proto::RUNNING), "running");
}

}  // namespace
}  // namespace repro
