// Session with several watched models and named step values (record_step with NamedValues).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <limits>

#include "repro/digest.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/session.h"
#include "session_testutil.h"
#include "testutil.h"
#include "util/exact.h"

namespace repro {
namespace {

using internal::float_bits;

proto::RunConfig digest_every_step() {
  return parse_config("seed: 7\nrecord { flush_every: 2 param_digest_every: 1 }\ndata { source: \"synthetic\" }\n",
                      "test");
}

std::vector<std::pair<std::string, at::Tensor>> named_parameters(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

TEST(SessionSeriesTest, NamedValuesAreRecordedAsExactBitsWithTheFirstAsTheLoss) {
  testing::TempDir dir;
  std::string run_dir;
  const float d[2] = {0.1f, 1.0f / 3.0f};
  const double g[2] = {0.7, std::nextafter(2.0, 3.0)};
  {
    Session session(digest_every_step(), testing::quiet_session_options(dir));
    for (int64_t step = 0; step < 2; ++step) {
      const double first = session.record_step(
          step, {{"d_loss", at::scalar_tensor(d[step])}, {"g_loss", at::scalar_tensor(g[step], at::kDouble)}});
      EXPECT_EQ(first, double{d[step]}) << "returns the first value as recorded";
    }
    session.finish();
    run_dir = session.run_dir();
  }
  const RunData r = read_run(run_dir);
  ASSERT_EQ(r.header.series_size(), 2);
  EXPECT_EQ(r.header.series(0), "d_loss");
  EXPECT_EQ(r.header.series(1), "g_loss");
  ASSERT_EQ(r.steps.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const auto& s = r.steps[static_cast<std::size_t>(i)];
    ASSERT_EQ(s.values_size(), 2);
    EXPECT_EQ(s.values(0).name(), "d_loss");
    EXPECT_EQ(float_bits(s.values(0).f32()), float_bits(d[i]));
    EXPECT_EQ(s.values(1).value_case(), proto::NamedValue::kF64) << "a double stays a double";
    EXPECT_EQ(internal::double_bits(s.values(1).f64()), internal::double_bits(g[i]));
    EXPECT_EQ(float_bits(s.loss_f32()), float_bits(d[i])) << "the first value is the loss";
  }
}

TEST(SessionSeriesTest, NamesChangingBetweenStepsAreRefused) {
  testing::TempDir dir;
  Session session(digest_every_step(), testing::quiet_session_options(dir));
  const auto one = at::scalar_tensor(1.0f);
  session.record_step(0, {{"d_loss", one}, {"g_loss", one}});
  EXPECT_EQ(testing::error_message([&] {
              session.record_step(1, {{"g_loss", one}, {"d_loss", one}});
            }),
            "record_step: step 1 records g_loss, d_loss, but earlier steps recorded d_loss, g_loss (the same "
            "names, in the same order, at every step)");
  EXPECT_EQ(testing::thrown_error([&] { session.record_step(1, {{"d_loss", one}}); }).kind(), ErrorKind::kUsage);
  EXPECT_EQ(testing::error_message([&] { session.record_step(1, one); }),
            "record_step: step 1 records one loss, but this run records the named values d_loss, g_loss (the same "
            "names at every step)");
  EXPECT_EQ(testing::error_message([&] {
              session.record_step(1, {{"d_loss", one}, {"d_loss", one}});
            }),
            "record_step: step 1: the name 'd_loss' is given twice");
  EXPECT_EQ(testing::error_message([&] {
              session.record_step(1, {{"d_loss", at::ones({2})}, {"g_loss", one}});
            }),
            "record_step: step 1: 'd_loss' is not a scalar tensor (2 elements)");
  session.record_step(1, {{"d_loss", one}, {"g_loss", one}});  // the refusals recorded nothing
  session.finish();
  EXPECT_EQ(session.header().steps_completed(), 2);
}

TEST(SessionSeriesTest, NamedValuesAfterASingleLossAreRefused) {
  testing::TempDir dir;
  Session session(digest_every_step(), testing::quiet_session_options(dir));
  session.record_step(0, at::scalar_tensor(1.0f));
  EXPECT_EQ(testing::error_message([&] {
              session.record_step(1, {{"d_loss", at::scalar_tensor(1.0f)}});
            }),
            "record_step: step 1 records named values d_loss, but earlier steps of this run recorded one loss (the "
            "same kind at every step)");
  session.finish();
}

TEST(SessionSeriesTest, NanInTheSecondValueIsCaughtNamingIt) {
  testing::TempDir dir;
  std::string run_dir;
  {
    Session session(digest_every_step(), testing::quiet_session_options(dir));
    run_dir = session.run_dir();
    session.record_step(0, {{"d_loss", at::scalar_tensor(0.5f)}, {"g_loss", at::scalar_tensor(0.5f)}});
    try {
      session.record_step(1, {{"d_loss", at::scalar_tensor(0.5f)},
                              {"g_loss", at::scalar_tensor(std::numeric_limits<float>::quiet_NaN())}});
      FAIL() << "expected NonFiniteError";
    } catch (const NonFiniteError& e) {
      EXPECT_EQ(e.step(), 1);
      EXPECT_EQ(e.tensor(), "g_loss");
      EXPECT_STREQ(e.what(), "non-finite g_loss at step 1: nan (0x7fc00000)");
    }
  }
  const RunData r = read_run(run_dir);
  EXPECT_EQ(r.status, proto::FAILED);
  EXPECT_EQ(r.status_reason, "non-finite g_loss at step 1: nan (0x7fc00000)");
  ASSERT_EQ(r.steps.size(), 2u) << "the non-finite step is recorded";
  EXPECT_EQ(float_bits(r.steps[1].values(1).f32()), 0x7fc00000u);
}

TEST(SessionSeriesTest, OneModelKeepsItsNamesAndDigests) {
  testing::TempDir dir;
  torch::nn::Linear model(4, 2);
  const std::string expected = digest_tensors(named_parameters(*model));
  Session session(digest_every_step(), testing::quiet_session_options(dir));
  session.watch(*model, "linear");
  session.record_step(0, at::scalar_tensor(1.0f));
  session.finish();
  const RunData r = read_run(session.run_dir());
  EXPECT_EQ(r.header.model().name(), "linear");
  EXPECT_EQ(r.header.model().tensors(0).name(), "weight");
  EXPECT_EQ(r.header.model().initial_digest(), expected);
  EXPECT_EQ(r.steps[0].param_digest(), expected);
  EXPECT_TRUE(r.steps[0].model_digests().empty()) << "one model: no per-model digests";
  EXPECT_TRUE(r.header.final_model_digests().empty());
  ASSERT_EQ(r.header.models_size(), 1);
  EXPECT_EQ(r.header.models(0).initial_digest(), expected);
}

TEST(SessionSeriesTest, SeveralModelsAreDigestedTogetherAndEachUnderItsName) {
  testing::TempDir dir;
  torch::nn::Linear generator(3, 5), discriminator(5, 1);
  Session session(digest_every_step(), testing::quiet_session_options(dir));
  session.watch({{"generator", *generator}, {"discriminator", *discriminator}});
  const std::string g0 = digest_tensors(named_parameters(*generator));
  const std::string d0 = digest_tensors(named_parameters(*discriminator));
  session.record_step(0, {{"d_loss", at::scalar_tensor(1.0f)}, {"g_loss", at::scalar_tensor(2.0f)}});
  {
    at::NoGradGuard no_grad;
    discriminator->weight.add_(1.0);
  }
  session.record_step(1, {{"d_loss", at::scalar_tensor(1.0f)}, {"g_loss", at::scalar_tensor(2.0f)}});
  session.finish();
  const RunData r = read_run(session.run_dir());
  const auto& h = r.header;
  EXPECT_EQ(h.model().name(), "generator+discriminator");
  ASSERT_EQ(h.model().tensors_size(), 4);
  EXPECT_EQ(h.model().tensors(0).name(), "generator/weight");
  EXPECT_EQ(h.model().tensors(3).name(), "discriminator/bias");
  EXPECT_EQ(h.model().num_parameters(), 3 * 5 + 5 + 5 + 1);
  ASSERT_EQ(h.models_size(), 2);
  EXPECT_EQ(h.models(0).name(), "generator");
  EXPECT_EQ(h.models(0).tensors(0).name(), "weight");
  EXPECT_EQ(h.models(0).initial_digest(), g0);
  EXPECT_EQ(h.models(1).initial_digest(), d0);
  ASSERT_EQ(r.steps[0].model_digests_size(), 2);
  EXPECT_EQ(r.steps[0].model_digests(0).name(), "generator");
  EXPECT_EQ(r.steps[0].model_digests(0).digest(), g0);
  EXPECT_EQ(r.steps[0].model_digests(1).name(), "discriminator");
  EXPECT_EQ(r.steps[0].model_digests(1).digest(), d0);
  EXPECT_EQ(r.steps[1].model_digests(0).digest(), g0) << "the generator did not change";
  EXPECT_NE(r.steps[1].model_digests(1).digest(), d0);
  EXPECT_NE(r.steps[1].param_digest(), r.steps[0].param_digest()) << "the union covers the discriminator";
  ASSERT_EQ(h.final_model_digests_size(), 2);
  EXPECT_EQ(h.final_model_digests(1).digest(), r.steps[1].model_digests(1).digest());
  EXPECT_EQ(h.final_param_digest(), r.steps[1].param_digest());
}

TEST(SessionSeriesTest, WatchingOneModelAtATimeIsTheSameAsAll) {
  testing::TempDir dir;
  torch::nn::Linear generator(3, 5), discriminator(5, 1);
  Session a(digest_every_step(), testing::quiet_session_options(dir));
  a.watch({{"generator", *generator}, {"discriminator", *discriminator}});
  Session b(digest_every_step(), testing::quiet_session_options(dir));
  b.watch(*generator, "generator");
  b.watch(*discriminator, "discriminator");
  EXPECT_EQ(a.header().model().initial_digest(), b.header().model().initial_digest());
  EXPECT_EQ(a.param_digest(), b.param_digest());
  b.watch(*discriminator, "discriminator");  // again: replaces, adds nothing
  EXPECT_EQ(b.header().models_size(), 2);
  EXPECT_EQ(testing::error_message([&] {
              a.watch({{"g", *generator}, {"g", *discriminator}});
            }),
            "watch: the model name 'g' is given twice");
  a.finish();
  b.finish();
}

TEST(SessionSeriesTest, ACheckpointOfSeveralModelsRestoresEach) {
  testing::TempDir dir;
  std::string run_dir;
  torch::nn::Linear generator(3, 5), discriminator(5, 1);
  std::string saved;
  {
    Session session(digest_every_step(), testing::quiet_session_options(dir));
    session.watch({{"generator", *generator}, {"discriminator", *discriminator}});
    torch::optim::SGD optimizer(discriminator->parameters(), 0.1);
    session.record_step(0, {{"d_loss", at::scalar_tensor(1.0f)}, {"g_loss", at::scalar_tensor(2.0f)}});
    session.save_checkpoint({1, 0, 0}, &optimizer);
    saved = session.param_digest();
    run_dir = session.run_dir();
    session.fail("stopped for the test");
  }
  torch::nn::Linear g2(3, 5), d2(5, 1);  // other initial values
  SessionOptions o = testing::quiet_session_options(dir);
  o.resume_dir = run_dir;
  Session resumed(digest_every_step(), o);
  resumed.watch({{"generator", *g2}, {"discriminator", *d2}});
  torch::optim::SGD optimizer(d2->parameters(), 0.1);
  const auto from = resumed.resume(&optimizer);
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(from->step, 1);
  EXPECT_EQ(resumed.param_digest(), saved);
  EXPECT_EQ(digest_tensors(named_parameters(*d2)), digest_tensors(named_parameters(*discriminator)));
  resumed.record_step(1, {{"d_loss", at::scalar_tensor(1.0f)}, {"g_loss", at::scalar_tensor(2.0f)}});
  resumed.finish();
}

}  // namespace
}  // namespace repro
