#include "repro/checkpoint.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "repro/config.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/session.h"
#include "session_testutil.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

TEST(CheckpointFileTest, RoundTripsAndKeepsTheNewest) {
  testing::TempDir run;
  for (int64_t step : {10, 20, 30, 40})
    write_checkpoint_file(run.path().string(), step, "payload " + std::to_string(step), 3);
  const auto files = list_checkpoints(run.path().string());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files.front().step, 20);
  EXPECT_EQ(files.back().step, 40);
  EXPECT_EQ(files.back().path, checkpoint_path(run.path().string(), 40));
  EXPECT_EQ(read_checkpoint_file(files.back().path), "payload 40");
}

TEST(CheckpointFileTest, FlippedByteAndTruncationAreCorrupt) {
  testing::TempDir run;
  write_checkpoint_file(run.path().string(), 5, std::string(1000, 'x'), 3);
  const std::string path = checkpoint_path(run.path().string(), 5);
  std::string bytes = testing::read_file(path);
  bytes[500] ^= 0x10;
  testing::write_file(path, bytes);
  try {
    read_checkpoint_file(path);
    FAIL() << "a flipped byte was not noticed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": corrupt checkpoint: digest mismatch"), std::string::npos)
        << e.what();
  }
  bytes[500] ^= 0x10;
  testing::write_file(path, bytes.substr(0, 700));
  EXPECT_THROW(read_checkpoint_file(path), Error);
  testing::write_file(path, "RPRC");
  EXPECT_THROW(read_checkpoint_file(path), Error);
}

TEST(CheckpointFileTest, IgnoresOtherFilesAndTemporaries) {
  testing::TempDir run;
  write_checkpoint_file(run.path().string(), 7, "p", 3);
  testing::write_file(checkpoint_dir(run.path().string()) + "/.ckpt-00000008.ckpt.tmp-123", "torn");
  testing::write_file(checkpoint_dir(run.path().string()) + "/notes.txt", "x");
  ASSERT_EQ(list_checkpoints(run.path().string()).size(), 1u);
  EXPECT_TRUE(list_checkpoints(run.path().string() + "/missing").empty());
}

proto::RunConfig tiny_config() {
  return parse_config(
      "seed: 11\nrecord { flush_every: 100 }\ntrain { keep_checkpoints: 2 }\n"
      "data { source: \"synthetic\" }\n",
      "test");
}

// One step that uses the default generator (data and dropout), the optimizer and the model.
at::Tensor train_step(torch::nn::Linear& model, torch::optim::SGD& optimizer) {
  const at::Tensor x = at::randn({8, 4});
  optimizer.zero_grad();
  const at::Tensor loss = at::dropout(model->forward(x), 0.5, /*train=*/true).pow(2).mean();
  loss.backward();
  optimizer.step();
  return loss;
}

TEST(SessionCheckpointTest, ResumeContinuesBitwiseWithUserState) {
  testing::TempDir runs;
  std::string run_dir;
  std::vector<float> losses;
  {
    Session session(tiny_config(), testing::quiet_session_options(runs.path().string()));
    torch::nn::Linear model(4, 3);
    session.watch(*model, "linear");
    torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    for (int64_t step = 0; step < 6; ++step) {
      const at::Tensor loss = train_step(model, optimizer);
      losses.push_back(loss.item<float>());
      session.record_step(step, loss);
      if (step == 2) {
        session.save_checkpoint({3, 0, 24}, &optimizer, [](torch::serialize::OutputArchive& a) {
          a.write("answer", c10::IValue(int64_t{42}));
        });
      }
    }
    session.record_eval(5, "validation", {{"loss", 1.0}});
    run_dir = session.run_dir();
    session.fail("simulated crash");
  }
  SessionOptions options = testing::quiet_session_options(runs.path().string());
  options.resume_dir = run_dir;
  Session session(tiny_config(), options);
  EXPECT_TRUE(session.resumed());
  torch::nn::Linear model(4, 3);  // initialised differently: the checkpoint overwrites it
  session.watch(*model, "linear");
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  int64_t answer = 0;
  const auto point = session.resume(&optimizer, [&](torch::serialize::InputArchive& a) {
    c10::IValue v;
    a.read("answer", v);
    answer = v.toInt();
  });
  ASSERT_TRUE(point.has_value());
  EXPECT_EQ(point->step, 3);
  EXPECT_EQ(point->epoch, 0);
  EXPECT_EQ(point->position, 24);
  EXPECT_EQ(answer, 42);
  EXPECT_FALSE(session.resume(&optimizer).has_value()) << "only once";
  for (int64_t step = point->step; step < 6; ++step) {
    const at::Tensor loss = train_step(model, optimizer);
    EXPECT_EQ(loss.item<float>(), losses[static_cast<std::size_t>(step)]) << "step " << step;
    session.record_step(step, loss);
  }
  session.finish();
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status, proto::FINISHED);
  ASSERT_EQ(r.steps.size(), 6u);
  EXPECT_TRUE(r.evals.empty()) << "the evaluation after the checkpoint was dropped";
  ASSERT_EQ(r.header.resumes_size(), 1);
  EXPECT_EQ(r.header.resumes(0).from_step(), 3);
  EXPECT_EQ(r.header.resumes(0).previous_status(), proto::FAILED);
  EXPECT_TRUE(r.header.resumes(0).environment_differences().empty());
}

TEST(SessionCheckpointTest, FinishedRunIsNotResumed) {
  testing::TempDir runs;
  std::string run_dir;
  {
    Session session(tiny_config(), testing::quiet_session_options(runs.path().string()));
    session.record_step(0, at::scalar_tensor(1.0f));
    session.finish();
    run_dir = session.run_dir();
  }
  SessionOptions options = testing::quiet_session_options(runs.path().string());
  options.resume_dir = run_dir;
  try {
    Session session(tiny_config(), options);
    FAIL() << "a finished run was resumed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("nothing to resume: run finished"), std::string::npos) << e.what();
  }
}

TEST(SessionCheckpointTest, ARunBeingResumedElsewhereIsRefused) {
  testing::TempDir runs;
  std::string run_dir;
  {
    Session session(tiny_config(), testing::quiet_session_options(runs.path().string()));
    session.record_step(0, at::scalar_tensor(1.0f));
    run_dir = session.run_dir();
    session.fail("simulated crash");
  }
  const int fd = ::open((run_dir + "/.resume.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  SessionOptions options = testing::quiet_session_options(runs.path().string());
  options.resume_dir = run_dir;
  try {
    Session session(tiny_config(), options);
    FAIL() << "resumed a run another process is resuming";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another process is resuming"), std::string::npos) << e.what();
  }
  ::close(fd);
  Session session(tiny_config(), options);  // the lock is gone: the resume goes ahead
  EXPECT_TRUE(session.resumed());
  session.finish();
}

}  // namespace
}  // namespace repro
