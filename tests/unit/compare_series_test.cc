// compare_runs and format_report on runs that record several series and several models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "repro/compare.h"

namespace repro {
namespace {

using ::testing::HasSubstr;

// A finished GAN-like run: series d_loss and g_loss (d_loss also the loss), models generator
// and discriminator digested every 5 steps.
RunData make_gan_run(int64_t steps) {
  RunData run;
  run.dir = "runs/gan";
  run.status = proto::FINISHED;
  run.header.set_run_id("gan");
  run.header.set_status(proto::FINISHED);
  run.header.add_series("d_loss");
  run.header.add_series("g_loss");
  run.header.set_final_param_digest("final");
  for (const char* name : {"generator", "discriminator"}) {
    auto* d = run.header.add_final_model_digests();
    d->set_name(name);
    d->set_digest(std::string("final-") + name);
  }
  for (int64_t s = 0; s < steps; ++s) {
    proto::StepRecord step;
    step.set_step(s);
    const float d = 1.0f / static_cast<float>(s + 2), g = 0.5f + 0.25f * static_cast<float>(s);
    step.set_loss_f32(d);
    auto* dv = step.add_values();
    dv->set_name("d_loss");
    dv->set_f32(d);
    auto* gv = step.add_values();
    gv->set_name("g_loss");
    gv->set_f32(g);
    if (s % 5 == 0) {
      step.set_param_digest("all-" + std::to_string(s));
      for (const char* name : {"generator", "discriminator"}) {
        auto* md = step.add_model_digests();
        md->set_name(name);
        md->set_digest(std::string(name) + "-" + std::to_string(s));
      }
    }
    run.steps.push_back(step);
  }
  return run;
}

TEST(CompareSeriesTest, TheSecondSeriesDivergingFirstIsNamed) {
  const RunData a = make_gan_run(12);
  RunData b = make_gan_run(12);
  b.steps[3].mutable_values(1)->set_f32(b.steps[3].values(1).f32() + 1.0f);  // g_loss at step 3
  b.steps[6].mutable_values(0)->set_f32(0.75f);                              // d_loss at step 6
  b.steps[6].set_loss_f32(0.75f);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  ASSERT_TRUE(r.has_first_divergent_step());
  EXPECT_EQ(r.first_divergent_step(), 3);
  EXPECT_EQ(r.first_divergent_series(), "g_loss");
  EXPECT_EQ(r.summary(), "diverged at step 3 (g_loss): no recorded difference explains it (nondeterminism?)");
  ASSERT_EQ(r.series_size(), 2);
  EXPECT_EQ(r.series(0).name(), "d_loss");
  EXPECT_EQ(r.series(0).first_divergent_step(), 6);
  EXPECT_EQ(r.series(1).name(), "g_loss");
  EXPECT_EQ(r.series(1).first_divergent_step(), 3);
  EXPECT_EQ(r.series(1).steps_compared(), 12);
  EXPECT_DOUBLE_EQ(r.series(1).max_abs_diff(), 1.0);
  // The report's loss numbers are the primary series'.
  EXPECT_DOUBLE_EQ(r.max_abs_loss_diff(), 0.75 - 1.0 / 8.0);
  ASSERT_FALSE(r.steps().empty());
  EXPECT_EQ(r.steps(0).series(), "g_loss");
  EXPECT_EQ(r.steps(0).step(), 0);
  EXPECT_EQ(r.steps(3).loss_b_bits(), "0x40100000") << "g_loss 1.25 + 1 at step 3";

  const std::string text = format_report(r, /*color=*/false);
  EXPECT_THAT(text, HasSubstr("first divergent series"));
  EXPECT_THAT(text, HasSubstr("\nseries:\n"));
  EXPECT_THAT(text, HasSubstr("g_loss a"));
}

TEST(CompareSeriesTest, EqualAtTheSameStepNamesTheFirstInRecordOrder) {
  const RunData a = make_gan_run(8);
  RunData b = make_gan_run(8);
  b.steps[2].mutable_values(1)->set_f32(9.0f);
  b.steps[2].mutable_values(0)->set_f32(9.0f);
  b.steps[2].set_loss_f32(9.0f);
  EXPECT_EQ(compare_runs(a, b).first_divergent_series(), "d_loss");
}

TEST(CompareSeriesTest, ToleranceIsJudgedForEverySeries) {
  const RunData a = make_gan_run(8);
  RunData b = make_gan_run(8);
  b.steps[4].mutable_values(1)->set_f32(b.steps[4].values(1).f32() * 1.5f);  // g_loss far off
  Tolerance t;
  t.rtol = 1e-3;
  const auto r = compare_runs(a, b, t);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  ASSERT_TRUE(r.has_first_out_of_tolerance_step());
  EXPECT_EQ(r.first_out_of_tolerance_step(), 4);
  EXPECT_EQ(r.series(1).first_out_of_tolerance_step(), 4);
  EXPECT_FALSE(r.series(0).has_first_out_of_tolerance_step());
}

TEST(CompareSeriesTest, ModelDigestsNameTheModelWhoseParametersDifferFirst) {
  const RunData a = make_gan_run(12);
  RunData b = make_gan_run(12);
  b.steps[5].set_param_digest("other");
  b.steps[5].mutable_model_digests(1)->set_digest("other");  // the discriminator
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  EXPECT_FALSE(r.has_first_divergent_step());
  ASSERT_TRUE(r.has_first_param_digest_divergent_step());
  EXPECT_EQ(r.first_param_digest_divergent_step(), 5);
  EXPECT_EQ(r.first_param_digest_divergent_model(), "discriminator");
  EXPECT_EQ(r.summary(),
            "diverged at step 5 (parameters of discriminator): no recorded difference explains it (nondeterminism?)");
  EXPECT_THAT(format_report(r, false), HasSubstr("5 (discriminator)"));
}

TEST(CompareSeriesTest, FinalModelDigestsNameTheModelWhenNoStepDigestDiffers) {
  const RunData a = make_gan_run(12);
  RunData b = make_gan_run(12);
  b.header.set_final_param_digest("other");
  b.header.mutable_final_model_digests(0)->set_digest("other");  // the generator
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.first_param_digest_divergent_step(), 11);
  EXPECT_EQ(r.first_param_digest_divergent_model(), "generator");
}

TEST(CompareSeriesTest, ARunWithOneLossIsTheSeriesLoss) {
  RunData a = make_gan_run(4), b = make_gan_run(4);
  for (auto* run : {&a, &b}) {
    run->header.clear_series();
    for (auto& s : run->steps) s.clear_values();
  }
  b.steps[2].set_loss_f32(7.0f);
  const auto r = compare_runs(a, b);
  ASSERT_EQ(r.series_size(), 1);
  EXPECT_EQ(r.series(0).name(), "loss");
  EXPECT_EQ(r.first_divergent_series(), "loss");
  EXPECT_EQ(r.summary(), "diverged at step 2: no recorded difference explains it (nondeterminism?)");
  EXPECT_EQ(r.steps(0).series(), "loss");
  EXPECT_THAT(format_report(r, false), ::testing::Not(HasSubstr("first divergent series")));
}

// Runs that record other series lists: the header difference names both lists, and the series
// they share are still compared.
TEST(CompareSeriesTest, OtherSeriesListsAreNamedAsAHeaderDifference) {
  const RunData a = make_gan_run(4);
  RunData b = make_gan_run(4);
  b.header.add_series("aux_loss");
  for (auto& s : b.steps) {
    auto* v = s.add_values();
    v->set_name("aux_loss");
    v->set_f32(2.0f);
  }
  const auto r = compare_runs(a, b);
  const proto::Difference* series = nullptr;
  for (const auto& d : r.differences()) {
    if (d.field() == "series") series = &d;
  }
  ASSERT_NE(series, nullptr) << r.DebugString();
  EXPECT_EQ(series->a(), "d_loss,g_loss");
  EXPECT_EQ(series->b(), "d_loss,g_loss,aux_loss");
  EXPECT_FALSE(series->affects_numerics());
  EXPECT_EQ(series->explanation(),
            "recorded series d_loss,g_loss vs d_loss,g_loss,aux_loss: the programs record other step values");
  EXPECT_EQ(r.series_size(), 2);
}

}  // namespace
}  // namespace repro
