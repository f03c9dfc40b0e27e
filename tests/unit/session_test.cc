#include "repro/session.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "repro/determinism.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/trace.h"
#include "session/nonfinite_guard.h"
#include "session_testutil.h"
#include "testutil.h"
#include "util/process.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

proto::RunConfig tiny_config() {
  return parse_config("seed: 7\nrecord { flush_every: 2 param_digest_every: 2 }\ndata { source: \"synthetic\" }\n",
                      "test");
}

TEST(SessionTest, RecordsStepsExactlyAndFinishes) {
  testing::TempDir dir;
  std::string run_dir;
  float losses[3] = {0.5f, 0.25f, 1.0f / 3.0f};
  {
    Session session(tiny_config(), testing::quiet_session_options(dir));
    torch::nn::Linear model(4, 2);
    session.watch(*model, "linear");
    for (int64_t step = 0; step < 3; ++step) {
      StepExtras extras;
      extras.lr = 0.1;
      EXPECT_EQ(session.record_step(step, at::scalar_tensor(losses[step]), extras), double{losses[step]})
          << "returns the loss as recorded, step " << step;
    }
    session.record_eval(2, "validation", {{"accuracy", 0.75}});
    session.finish();
    run_dir = session.run_dir();
    EXPECT_EQ(session.header().model().tensors_size(), 2);
    EXPECT_EQ(session.header().model().num_parameters(), 4 * 2 + 2);
  }
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status, proto::FINISHED);
  ASSERT_EQ(r.steps.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.steps[i].loss_f32(), losses[i]) << "exact float, step " << i;
  EXPECT_FALSE(r.steps[0].param_digest().empty());
  EXPECT_TRUE(r.steps[1].param_digest().empty()) << "digest every 2 steps";
  EXPECT_EQ(r.header.model().name(), "linear");
  EXPECT_EQ(r.header.seed(), 7u);
  EXPECT_EQ(r.header.origin(), "session");
  ASSERT_EQ(r.evals.size(), 1u);
  EXPECT_DOUBLE_EQ(r.evals[0].metrics().at("accuracy"), 0.75);
  EXPECT_EQ(r.header.final_param_digest(), r.steps[0].param_digest()) << "no update happened in between";
}

// startup_s: this process's age when the Session started, from the kernel's start time — more
// than the time spent since main() began (the test binary's libraries loaded before it), less
// than the process's age now.
TEST(SessionTest, RecordsTheTimeFromProcessStartToTheSession) {
  testing::TempDir dir;
  const double age_before = internal::process_age_s();
  const auto t0 = std::chrono::steady_clock::now();
  Session session(tiny_config(), testing::quiet_session_options(dir));
  const double in_constructor = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  session.finish();
  const double age_after = internal::process_age_s();
  const double startup = read_run(session.run_dir()).header.startup_s();
  ASSERT_GT(age_before, 0) << "/proc/self/stat start time";
  // /proc's start time has clock-tick resolution (10 ms): allow that much either way.
  EXPECT_GE(startup, age_before - 0.011);
  EXPECT_LE(startup, age_before + in_constructor + 0.011);
  EXPECT_LE(startup, age_after + 0.011);
}

TEST(SessionTest, SeedsEnginesFromTheMasterSeedAndRecordsThem) {
  testing::TempDir dir;
  Session session(tiny_config(), testing::quiet_session_options(dir));
  auto a = session.rng("noise");
  auto b = session.rng("noise");
  EXPECT_EQ(a(), b());
  EXPECT_EQ(session.seed("user/noise"), derive_seed(7, "user/noise"));
  bool recorded = false;
  for (const auto& s : session.header().seeds()) recorded = recorded || s.purpose() == "user/noise";
  EXPECT_TRUE(recorded);
  session.finish();
}

TEST(SessionTest, UnfinishedSessionIsRecordedAsFailed) {
  testing::TempDir dir;
  std::string run_dir;
  {
    Session session(tiny_config(), testing::quiet_session_options(dir));
    session.record_step(0, at::scalar_tensor(1.0f));
    run_dir = session.run_dir();
  }
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status, proto::FAILED);
  EXPECT_EQ(r.header.status_reason(), "session ended without finish()");
  EXPECT_EQ(r.steps.size(), 1u) << "buffered steps are flushed at the end";
}

// Bad input found before the first step: the run never started, and nothing of it is left (the
// runs directory it created included); after a step, abandon() is fail().
TEST(SessionTest, AbandonBeforeTheFirstStepLeavesNothingAfterItIsFail) {
  testing::TempDir dir;
  const std::string runs = dir / "new-runs";
  {
    Session session(tiny_config(), testing::quiet_session_options(runs));
    ASSERT_TRUE(fs::is_directory(session.run_dir()));
    session.abandon("data.csv:3: expected 3 columns, got 2");
    EXPECT_FALSE(fs::exists(session.run_dir()));
  }
  EXPECT_FALSE(fs::exists(runs)) << "the runs directory this run created";
  fs::create_directories(runs);
  {
    Session session(tiny_config(), testing::quiet_session_options(runs));
    session.abandon("bad");
  }
  EXPECT_TRUE(fs::is_directory(runs)) << "a runs directory that was there stays";
  EXPECT_TRUE(list_runs(runs).empty());
  std::string run_dir;
  {
    Session session(tiny_config(), testing::quiet_session_options(runs));
    session.record_step(0, at::scalar_tensor(1.0f));
    session.abandon("loss is NaN at step 1");
    run_dir = session.run_dir();
  }
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status, proto::FAILED);
  EXPECT_EQ(r.header.status_reason(), "loss is NaN at step 1");
  EXPECT_EQ(r.steps.size(), 1u);
}

TEST(SessionTest, StepsMustIncrease) {
  testing::TempDir dir;
  Session session(tiny_config(), testing::quiet_session_options(dir));
  session.record_step(3, at::scalar_tensor(1.0f));
  EXPECT_THROW(session.record_step(3, at::scalar_tensor(1.0f)), Error);
  session.finish();
  EXPECT_THROW(session.record_step(4, at::scalar_tensor(1.0f)), Error);
}

TEST(SessionTest, ADrawnSeedIsRecordedInTheConfig) {
  testing::TempDir dir;
  auto config = tiny_config();
  config.set_seed(0);
  Session session(config, testing::quiet_session_options(dir));
  EXPECT_NE(session.seed(), 0u);
  EXPECT_EQ(session.config().seed(), session.seed());
  EXPECT_EQ(session.header().config().seed(), session.seed()) << "a rerun can use it";
  session.finish();
}

// NaN/Inf guard (train.on_nonfinite): stop records the step and fails the run naming step and
// tensor; warn goes on.
proto::RunConfig guarded_config(const std::string& on_nonfinite) {
  proto::RunConfig c = tiny_config();
  c.mutable_train()->set_on_nonfinite(on_nonfinite);
  return c;
}

// REPRO_TRACE_STOP: record_step(K) writes the trace, records the step, ends the run as
// interrupted and throws TraceWindowClosed. Run in a child process (a death test), so that a
// Session that exits the process instead fails the test rather than ending the test binary.
std::string stop_after_traced_step(const testing::TempDir& dir, int64_t* thrown_at, std::string* reason) {
  setenv("REPRO_TRACE_STEP", "1", 1);
  setenv("REPRO_TRACE_FILE", (dir / "step-1.trace").c_str(), 1);
  setenv("REPRO_TRACE_STOP", "1", 1);
  std::string run_dir;
  {
    Session session(tiny_config(), testing::quiet_session_options(dir));
    unsetenv("REPRO_TRACE_STEP");
    unsetenv("REPRO_TRACE_FILE");
    unsetenv("REPRO_TRACE_STOP");
    run_dir = session.run_dir();
    torch::nn::Linear model(4, 2);
    session.watch(*model, "linear");
    for (int64_t step = 0; step < 3; ++step) {
      try {
        session.record_step(step, model->forward(at::ones({1, 4})).sum());
      } catch (const TraceWindowClosed& e) {
        *thrown_at = e.step();
        *reason = e.what();
        break;
      }
    }
  }
  return run_dir;
}

TEST(SessionTest, TraceStopThrowsAndNeverExitsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        testing::TempDir child_dir;
        int64_t at = -1;
        std::string reason;
        stop_after_traced_step(child_dir, &at, &reason);
        std::_Exit(at == 1 ? 42 : 1);
      },
      ::testing::ExitedWithCode(42), "");
  if (HasFailure()) return;  // the Session exited the process: do not let it end this one

  testing::TempDir dir;
  int64_t at = -1;
  std::string reason;
  const RunData run = read_run(stop_after_traced_step(dir, &at, &reason));
  EXPECT_EQ(at, 1);
  EXPECT_EQ(reason, "stopped after the trace window at step 1");
  EXPECT_EQ(run.status, proto::INTERRUPTED);
  EXPECT_EQ(run.status_reason, "stopped after the trace window at step 1");
  ASSERT_EQ(run.steps.size(), 2u) << "steps 0 and 1 recorded, nothing after";
  const proto::Trace trace = read_trace(dir / "step-1.trace");
  EXPECT_EQ(trace.start().state().step(), 1);
  EXPECT_EQ(trace.end().loss_f32(), run.steps[1].loss_f32());
}

TEST(NonFiniteGuardTest, StopRecordsTheStepThenFailsTheRunNamingStepAndLoss) {
  testing::TempDir dir;
  std::string run_dir;
  {
    Session session(guarded_config("stop"), testing::quiet_session_options(dir));
    run_dir = session.run_dir();
    session.record_step(0, at::scalar_tensor(1.5f));
    try {
      session.record_step(1, at::scalar_tensor(std::numeric_limits<float>::quiet_NaN()));
      FAIL() << "expected NonFiniteError";
    } catch (const NonFiniteError& e) {
      EXPECT_EQ(e.step(), 1);
      EXPECT_EQ(e.tensor(), "loss");
      EXPECT_STREQ(e.what(), "non-finite loss at step 1: nan (0x7fc00000)");
    }
  }
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status, proto::FAILED);
  EXPECT_EQ(r.status_reason, "non-finite loss at step 1: nan (0x7fc00000)");
  ASSERT_EQ(r.steps.size(), 2u) << "the non-finite step is recorded";
  EXPECT_TRUE(std::isnan(r.steps[1].loss_f32()));
}

TEST(NonFiniteGuardTest, InfiniteGradNormNamesTheFirstParameterWithANonFiniteGradient) {
  testing::TempDir dir;
  std::string run_dir;
  {
    Session session(guarded_config("stop"), testing::quiet_session_options(dir));
    run_dir = session.run_dir();
    torch::nn::Linear first(2, 2), second(2, 2);
    session.watch({{"first.weight", first->weight}, {"second.weight", second->weight}}, {}, "two", "");
    first->weight.mutable_grad() = at::ones({2, 2});
    second->weight.mutable_grad() = at::full({2, 2}, INFINITY);
    StepExtras extras;
    extras.grad_norm = INFINITY;
    EXPECT_THROW(session.record_step(0, at::scalar_tensor(0.5f), extras), NonFiniteError);
  }
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status_reason, "non-finite gradient norm at step 0: inf (first non-finite gradient: second.weight)");
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_TRUE(std::isinf(r.steps[0].grad_norm()));
}

TEST(NonFiniteGuardTest, WarnGoesOnAndRecordsNanGradNorm) {
  testing::TempDir dir;
  std::string run_dir;
  {
    Session session(guarded_config("warn"), testing::quiet_session_options(dir));
    run_dir = session.run_dir();
    StepExtras extras;
    extras.grad_norm = NAN;
    session.record_step(0, at::scalar_tensor(INFINITY), extras);
    session.record_step(1, at::scalar_tensor(0.25f));
    session.finish();
  }
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status, proto::FINISHED);
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_TRUE(std::isinf(r.steps[0].loss_f32()));
  EXPECT_TRUE(std::isnan(r.steps[0].grad_norm())) << "a NaN gradient norm is recorded, not dropped";
}

TEST(NonFiniteGuardTest, FindsNothingWhenFinite) {
  EXPECT_FALSE(internal::find_nonfinite(3, at::scalar_tensor(2.0), 1.0, {}).has_value());
  EXPECT_FALSE(internal::find_nonfinite(3, at::scalar_tensor(2.0), -1, {}).has_value()) << "-1: not reported";
  const auto found = internal::find_nonfinite(3, at::scalar_tensor(-INFINITY, at::kDouble), 1.0, {});
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->message, "non-finite loss at step 3: -inf (0xfff0000000000000)");
}

}  // namespace
}  // namespace repro
