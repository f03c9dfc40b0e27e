// The NaN/Inf guard in `repro run`: a diverging run stops at its first non-finite step, which is
// recorded, and the run is failed naming the step (exit 1, one line); with warn it goes on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

using ::testing::HasSubstr;
using testing::run_repro;

using testing::last_line;

bool finite_step(const proto::StepRecord& s) { return std::isfinite(s.loss_f32()) && std::isfinite(s.grad_norm()); }

TEST(GuardCliTest, DivergingRunStopsAtTheFirstNonFiniteStepWithThatStepRecorded) {
  testing::TempDir runs;
  const auto r = run_repro({"run", "--config", testing::config_path("mlp_synthetic.textproto"), "--runs-dir",
                            runs.path().string(), "--set", "optimizer.lr=1e6"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const RunData run = read_run(last_line(r.out));
  EXPECT_EQ(run.status, proto::FAILED);
  ASSERT_FALSE(run.steps.empty());
  const proto::StepRecord& last = run.steps.back();
  EXPECT_FALSE(finite_step(last)) << "the last recorded step is the non-finite one";
  for (std::size_t i = 0; i + 1 < run.steps.size(); ++i) EXPECT_TRUE(finite_step(run.steps[i])) << "step " << i;
  EXPECT_LT(last.step(), 200) << "it stopped early";
  const std::string tensor = std::isfinite(last.loss_f32()) ? "gradient norm" : "loss";
  EXPECT_THAT(run.status_reason,
              ::testing::StartsWith("non-finite " + tensor + " at step " + std::to_string(last.step()) + ": "));
  EXPECT_EQ(run.header.steps_completed(), static_cast<int64_t>(run.steps.size()));
  EXPECT_THAT(r.err, HasSubstr("repro run: the run failed: " + run.status_reason + "\n"));
}

TEST(GuardCliTest, WarnLetsTheRunFinish) {
  testing::TempDir runs;
  const auto r =
      run_repro({"run", "--config", testing::config_path("mlp_synthetic.textproto"), "--runs-dir", runs.path().string(),
                 "--set", "optimizer.lr=1e6", "--set", "train.on_nonfinite=warn", "--set", "train.steps=40"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const RunData run = read_run(last_line(r.out));
  EXPECT_EQ(run.status, proto::FINISHED);
  ASSERT_EQ(run.steps.size(), 40u);
  EXPECT_FALSE(finite_step(run.steps.back()));
  EXPECT_THAT(r.err, HasSubstr("train.on_nonfinite: warn, the run goes on"));
  EXPECT_EQ(run.header.config().train().on_nonfinite(), "warn");
}

}  // namespace
}  // namespace repro
