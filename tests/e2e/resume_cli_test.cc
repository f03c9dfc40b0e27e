// `repro resume`: a run killed with SIGKILL anywhere and resumed is bitwise the uninterrupted run.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <initializer_list>
#include <thread>

#include "repro/checkpoint.h"
#include "repro/record.h"
#include "testutil.h"
#include "util/fileutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::run_repro;

struct Case {
  std::string config;
  std::vector<std::string> sets;
};

Case mlp_case() {
  return {"mlp_fashion_mnist.textproto",
          {"train.steps=60", "train.checkpoint_every=10", "train.eval_every=25", "record.flush_every=1",
           "record.param_digest_every=5"}};
}

Case cnn_case() {
  return {"demo.textproto",
          {"train.steps=40", "train.checkpoint_every=10", "train.eval_every=15", "record.flush_every=1",
           "record.param_digest_every=5", "model.cnn.channels1=8", "model.cnn.channels2=8"}};
}

std::vector<std::string> run_args(const Case& c, const std::string& runs_dir) {
  std::vector<std::string> args = {testing::repro_binary(),        "run",        "--config",
                                   testing::config_path(c.config), "--runs-dir", runs_dir};
  for (const auto& s : c.sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

// Runs the case to the end; returns its run directory.
std::string run_to_end(const Case& c, const std::string& runs_dir) {
  testing::TempDir io;
  const auto r = testing::wait_process(testing::start_process(run_args(c, runs_dir), {}, "", io.path().string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto runs = list_runs(runs_dir);
  return runs.empty() ? "" : runs.back();
}

// Starts the case, waits until at least `target` steps are on disk, and kills it with SIGKILL.
// Returns the run directory.
std::string run_and_kill(const Case& c, const std::string& runs_dir, std::size_t target) {
  testing::TempDir io;
  const auto started = testing::start_process(run_args(c, runs_dir), {}, "", io.path().string());
  std::string dir;
  for (;;) {
    int status = 0;
    if (waitpid(started.pid, &status, WNOHANG) == started.pid) {
      ADD_FAILURE() << "the run ended before step " << target << ": " << testing::read_file(started.err_path);
      return dir;
    }
    if (dir.empty()) {
      if (const auto runs = list_runs(runs_dir); !runs.empty()) dir = runs.back();
    }
    if (!dir.empty() && read_run(dir).steps.size() >= target) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(started.pid, SIGKILL);
  const auto r = testing::wait_process(started);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << "the run ended before the kill";
  return dir;
}

uint32_t loss_bits(const proto::StepRecord& s) {
  uint32_t bits = 0;
  const float f = s.loss_f32();
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

void expect_same_run(const RunData& reference, const RunData& resumed) {
  ASSERT_EQ(resumed.status, proto::FINISHED) << resumed.status_reason;
  ASSERT_EQ(resumed.steps.size(), reference.steps.size());
  for (std::size_t i = 0; i < reference.steps.size(); ++i) {
    ASSERT_EQ(resumed.steps[i].step(), reference.steps[i].step());
    ASSERT_EQ(loss_bits(resumed.steps[i]), loss_bits(reference.steps[i])) << "step " << i;
    ASSERT_EQ(resumed.steps[i].param_digest(), reference.steps[i].param_digest()) << "step " << i;
    ASSERT_EQ(resumed.steps[i].grad_norm(), reference.steps[i].grad_norm()) << "step " << i;
  }
  ASSERT_EQ(resumed.evals.size(), reference.evals.size());
  for (std::size_t i = 0; i < reference.evals.size(); ++i) {
    EXPECT_EQ(resumed.evals[i].step(), reference.evals[i].step());
    EXPECT_EQ(resumed.evals[i].metrics().at("loss"), reference.evals[i].metrics().at("loss")) << "eval " << i;
  }
  EXPECT_EQ(resumed.header.final_param_digest(), reference.header.final_param_digest());
  EXPECT_FALSE(reference.header.final_param_digest().empty());
  EXPECT_EQ(resumed.header.steps_completed(), reference.header.steps_completed());
  EXPECT_EQ(resumed.header.resumes_size(), 1);
}

class ResumeCliTest : public ::testing::Test {
 protected:
  static const RunData& reference(const std::string& name, const Case& c) {
    static std::map<std::string, RunData> cache;
    static testing::TempDir runs;
    if (!cache.count(name)) cache[name] = read_run(run_to_end(c, runs / name));
    return cache[name];
  }
};

// Kills a run of `c` at each target step (or a little later: the kill lands while the run goes
// on), resumes it, and expects the completed run to equal the uninterrupted reference bitwise.
void expect_each_kill_resumes_bitwise(const Case& c, const RunData& ref, std::initializer_list<std::size_t> targets) {
  for (const std::size_t target : targets) {
    SCOPED_TRACE("killed at step " + std::to_string(target) + " or later");
    testing::TempDir runs;
    const std::string dir = run_and_kill(c, runs.path().string(), target);
    ASSERT_FALSE(dir.empty());
    const auto r = run_repro({"resume", dir});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const RunData resumed = read_run(dir);
    expect_same_run(ref, resumed);
    // Killed after a checkpoint was on disk: continued from it, not from the start. (At
    // step 10 the kill may land before checkpoint 10 is written.)
    if (target > 10) {
      EXPECT_GE(resumed.header.resumes(0).from_step(), 10);
    }
    EXPECT_LE(list_checkpoints(dir).size(), 3u);  // train.keep_checkpoints
  }
}

TEST_F(ResumeCliTest, MlpKilledBeforeAtAndAfterCheckpointsResumesBitwise) {
  const Case c = mlp_case();
  expect_each_kill_resumes_bitwise(c, reference("mlp", c), {7, 10, 11, 23, 30});
}

TEST_F(ResumeCliTest, CnnWithAdamDropoutBatchNormResumesBitwise) {
  const Case c = cnn_case();
  expect_each_kill_resumes_bitwise(c, reference("cnn", c), {5, 10, 11, 23, 31});
}

TEST_F(ResumeCliTest, CorruptNewestCheckpointsAreNamedAndSkipped) {
  Case c = mlp_case();
  c.sets.push_back("train.keep_checkpoints=4");
  const RunData& ref = reference("mlp-keep-4", c);
  testing::TempDir runs;
  const std::string dir = run_and_kill(c, runs.path().string(), 43);
  auto files = list_checkpoints(dir);
  ASSERT_EQ(files.size(), 4u);
  const std::string flipped = files[3].path, truncated = files[2].path, forged = files[1].path;
  std::string bytes = testing::read_file(flipped);
  bytes[bytes.size() / 2] ^= 0x01;
  testing::write_file(flipped, bytes);
  fs::resize_file(truncated, fs::file_size(truncated) - 100);
  // A crafted file: one byte of the archive's class source changed, the frame digest made to
  // match (torch's reader alone would crash on it).
  std::string payload = read_checkpoint_file(forged);
  const auto at = payload.find("  __buffers__ = []\n");
  ASSERT_NE(at, std::string::npos);
  payload[at + 8] = 'j';
  testing::write_file(forged, internal::frame_payload("RPRCKPT1", payload));

  const auto r = run_repro({"resume", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(flipped), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("digest mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(truncated), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(forged + ": checkpoint archive: code/__torch__/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'  __buffjrs__ = []' is not an attribute line torch writes"), std::string::npos) << r.err;
  const RunData resumed = read_run(dir);
  expect_same_run(ref, resumed);
  EXPECT_EQ(resumed.header.resumes(0).skipped_checkpoints_size(), 3);
  EXPECT_EQ(resumed.header.resumes(0).checkpoint(), fs::path(files[0].path).filename().string());
}

TEST_F(ResumeCliTest, NoCheckpointStartsAgainFromStepZero) {
  Case c = mlp_case();
  const RunData& ref = reference("mlp", c);
  c.sets.push_back("train.checkpoint_every=0");  // only at the end
  testing::TempDir runs;
  const std::string dir = run_and_kill(c, runs.path().string(), 12);
  ASSERT_TRUE(list_checkpoints(dir).empty());
  const auto r = run_repro({"resume", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("starting again from step 0"), std::string::npos) << r.err;
  const RunData resumed = read_run(dir);
  expect_same_run(ref, resumed);
  EXPECT_EQ(resumed.header.resumes(0).from_step(), 0);
}

TEST_F(ResumeCliTest, OtherThreadCountIsNamedAndStrictRefuses) {
  const Case c = mlp_case();
  testing::TempDir runs;
  const std::string dir = run_and_kill(c, runs.path().string(), 12);
  const auto strict = run_repro({"resume", dir, "--strict", "--intra-op-threads", "2"});
  EXPECT_EQ(strict.exit_code, 2) << strict.err;
  EXPECT_NE(strict.err.find("threads.intra_op: 1 -> 2"), std::string::npos) << strict.err;
  EXPECT_EQ(read_run(dir).header.resumes_size(), 0);  // refused before anything changed

  const auto lax = run_repro({"resume", dir, "--intra-op-threads", "2"});
  ASSERT_EQ(lax.exit_code, 0) << lax.err;
  EXPECT_NE(lax.err.find("threads.intra_op: 1 -> 2"), std::string::npos) << lax.err;
  const RunData resumed = read_run(dir);
  EXPECT_EQ(resumed.status, proto::FINISHED);
  ASSERT_EQ(resumed.header.resumes_size(), 1);
  EXPECT_GE(resumed.header.resumes(0).environment_differences_size(), 1);

  const auto again = run_repro({"resume", dir});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("nothing to resume: run finished"), std::string::npos) << again.err;
}

// Strict resume refuses every environment fact compare marks as affecting numerics (here the
// compiler, which it once let through), and two processes on one machine differ in none.
TEST_F(ResumeCliTest, StrictRefusesAnotherCompilerAndGoesAheadInTheSameEnvironment) {
  const Case c = mlp_case();
  const RunData& ref = reference("mlp", c);
  testing::TempDir runs;
  const std::string dir = run_and_kill(c, runs.path().string(), 12);
  const proto::RunRecord recorded = read_run(dir).header;
  proto::RunRecord other = recorded;
  other.mutable_environment()->mutable_build()->set_compiler("gcc 99.1.0");
  RunWriter::reopen(dir)->write_header(other);
  const auto strict = run_repro({"resume", dir, "--strict"});
  EXPECT_EQ(strict.exit_code, 2) << strict.err;
  EXPECT_NE(strict.err.find("not resumed (--strict)"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("build.compiler: gcc 99.1.0 -> " + recorded.environment().build().compiler()),
            std::string::npos)
      << strict.err;
  EXPECT_EQ(read_run(dir).header.resumes_size(), 0);

  RunWriter::reopen(dir)->write_header(recorded);
  const auto same = run_repro({"resume", dir, "--strict"});
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.err.find("environment differs"), std::string::npos) << same.err;
  const RunData resumed = read_run(dir);
  expect_same_run(ref, resumed);
  EXPECT_TRUE(resumed.header.resumes(0).environment_differences().empty());
}

}  // namespace
}  // namespace repro
