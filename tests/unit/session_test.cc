#include "repro/session.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>

#include "repro/determinism.h"
#include "repro/error.h"
#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

proto::RunConfig tiny_config() {
  return parse_config("seed: 7\nrecord { flush_every: 2 param_digest_every: 2 }\ndata { source: \"synthetic\" }\n",
                      "test");
}

SessionOptions options_in(const testing::TempDir& dir) {
  SessionOptions o;
  o.runs_dir = dir.path().string();
  o.handle_signals = false;
  o.log_file = false;
  return o;
}

TEST(SessionTest, RecordsStepsExactlyAndFinishes) {
  testing::TempDir dir;
  std::string run_dir;
  float losses[3] = {0.5f, 0.25f, 1.0f / 3.0f};
  {
    Session session(tiny_config(), options_in(dir));
    torch::nn::Linear model(4, 2);
    session.watch(*model, "linear");
    for (int64_t step = 0; step < 3; ++step) {
      StepExtras extras;
      extras.lr = 0.1;
      session.record_step(step, at::scalar_tensor(losses[step]), extras);
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

TEST(SessionTest, SeedsEnginesFromTheMasterSeedAndRecordsThem) {
  testing::TempDir dir;
  Session session(tiny_config(), options_in(dir));
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
    Session session(tiny_config(), options_in(dir));
    session.record_step(0, at::scalar_tensor(1.0f));
    run_dir = session.run_dir();
  }
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status, proto::FAILED);
  EXPECT_EQ(r.header.status_reason(), "session ended without finish()");
  EXPECT_EQ(r.steps.size(), 1u) << "buffered steps are flushed at the end";
}

TEST(SessionTest, StepsMustIncrease) {
  testing::TempDir dir;
  Session session(tiny_config(), options_in(dir));
  session.record_step(3, at::scalar_tensor(1.0f));
  EXPECT_THROW(session.record_step(3, at::scalar_tensor(1.0f)), Error);
  session.finish();
  EXPECT_THROW(session.record_step(4, at::scalar_tensor(1.0f)), Error);
}

TEST(SessionTest, ADrawnSeedIsRecordedInTheConfig) {
  testing::TempDir dir;
  auto config = tiny_config();
  config.set_seed(0);
  Session session(config, options_in(dir));
  EXPECT_NE(session.seed(), 0u);
  EXPECT_EQ(session.config().seed(), session.seed());
  EXPECT_EQ(session.header().config().seed(), session.seed()) << "a rerun can use it";
  session.finish();
}

}  // namespace
}  // namespace repro
