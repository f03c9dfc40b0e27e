// Envelope baselines: the band formula, saving and loading, containment (envelope.cc).
#include <gtest/gtest.h>

#include <cmath>

#include "repro/envelope.h"
#include "repro/error.h"
#include "repro/sweep.h"
#include "testutil.h"

namespace repro {
namespace {

// A run with the given per-step losses and a final test accuracy.
RunData run_with(const std::vector<float>& losses, double accuracy) {
  RunData run;
  run.dir = "runs/x";
  for (std::size_t i = 0; i < losses.size(); ++i) {
    proto::StepRecord step;
    step.set_step(static_cast<int64_t>(i));
    step.set_loss_f32(losses[i]);
    run.steps.push_back(step);
  }
  auto* eval = run.header.add_final_evals();
  eval->set_split("test");
  (*eval->mutable_metrics())["accuracy"] = accuracy;
  return run;
}

// The statistics of three runs, as a sweep setting.
proto::SweepSetting three_seeds() {
  std::vector<RunData> runs = {run_with({1.0f, 0.5f, 0.25f}, 0.90), run_with({1.2f, 0.6f, 0.30f}, 0.92),
                               run_with({1.1f, 0.4f, 0.20f}, 0.91)};
  proto::SweepSetting setting;
  setting.set_label("base");
  std::vector<const RunData*> pointers;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    setting.add_runs()->set_seed(i + 1);
    pointers.push_back(&runs[i]);
  }
  summarize_setting(pointers, &setting);
  return setting;
}

TEST(EnvelopeTest, BandIsRangeWidenedByKStdAndFloor) {
  const proto::Envelope e = make_envelope(three_seeds(), proto::RunConfig(), 2.0, 0.1);
  ASSERT_EQ(e.steps_size(), 3);
  // Step 1: losses 0.5, 0.6, 0.4 (as floats); L0 = mean of step 0 = 1.1.
  const double a = 0.5f, b = 0.6f, c = 0.4f;
  const double mean = (a + b + c) / 3;
  const double sd = std::sqrt(((a - mean) * (a - mean) + (b - mean) * (b - mean) + (c - mean) * (c - mean)) / 2);
  const double l0 = (double{1.0f} + double{1.2f} + double{1.1f}) / 3.0;
  const double margin = 2.0 * sd + 0.1 * std::max(mean, l0);
  EXPECT_NEAR(e.steps(1).loss().low(), c - margin, 1e-12);
  EXPECT_NEAR(e.steps(1).loss().high(), b + margin, 1e-12);
  EXPECT_NEAR(e.steps(1).loss().low(), 0.4 - (2 * 0.1 + 0.1 * 1.1), 1e-6);
  EXPECT_EQ(e.seeds_size(), 3);
  EXPECT_EQ(e.k(), 2.0);
  // Metrics: final_loss and test/accuracy, each with its band.
  ASSERT_EQ(e.metrics_size(), 2);
  EXPECT_EQ(e.metrics(0).name(), "final_loss");
  EXPECT_EQ(e.metrics(1).name(), "test/accuracy");
  EXPECT_THROW(make_envelope(three_seeds(), proto::RunConfig(), -1.0, 0.1), Error);
}

TEST(EnvelopeTest, RunInsideAndOutside) {
  const proto::Envelope e = make_envelope(three_seeds(), proto::RunConfig(), kDefaultEnvelopeK, kDefaultEnvelopeFloor);
  const auto inside = check_envelope(e, run_with({1.05f, 0.55f, 0.22f}, 0.91));
  EXPECT_TRUE(inside.inside()) << format_envelope_check(inside);
  EXPECT_EQ(inside.steps_checked(), 3);
  EXPECT_FALSE(inside.has_first_step_outside());

  // Step 1 above its band (0.6 + 4 * 0.1 + 0.05 * 1.1); step 2 too: the first is named, with its
  // loss and band.
  const auto outside = check_envelope(e, run_with({1.05f, 2.0f, 3.0f}, 0.91));
  EXPECT_FALSE(outside.inside());
  ASSERT_TRUE(outside.has_first_step_outside());
  EXPECT_EQ(outside.first_step_outside(), 1);
  EXPECT_EQ(outside.loss(), 2.0);
  EXPECT_EQ(outside.low(), e.steps(1).loss().low());
  EXPECT_EQ(outside.steps_outside(), 2);
  EXPECT_NE(format_envelope_check(outside).find("outside the envelope at step 1: loss 2 not in [-0.055, 1.055]"),
            std::string::npos)
      << format_envelope_check(outside);
}

TEST(EnvelopeTest, NanMissingStepsAndMetricsAreOutside) {
  const proto::Envelope e = make_envelope(three_seeds(), proto::RunConfig(), kDefaultEnvelopeK, kDefaultEnvelopeFloor);
  const auto nan = check_envelope(e, run_with({1.1f, NAN, 0.2f}, 0.91));
  EXPECT_FALSE(nan.inside());
  EXPECT_EQ(nan.first_step_outside(), 1);

  const auto short_run = check_envelope(e, run_with({1.1f, 0.5f}, 0.91));
  EXPECT_FALSE(short_run.inside());
  EXPECT_FALSE(short_run.has_first_step_outside());
  EXPECT_EQ(short_run.outside(0), "step 2: missing from the run");

  const auto accuracy = check_envelope(e, run_with({1.1f, 0.5f, 0.25f}, 0.10));
  EXPECT_FALSE(accuracy.inside());
  ASSERT_EQ(accuracy.outside_size(), 1);
  EXPECT_EQ(accuracy.outside(0).rfind("test/accuracy: 0.1 outside [", 0), 0u) << accuracy.outside(0);
}

TEST(EnvelopeTest, SavedEnvelopeReadsBackExactly) {
  testing::TempDir dir;
  const proto::Envelope e = make_envelope(three_seeds(), proto::RunConfig(), kDefaultEnvelopeK, kDefaultEnvelopeFloor);
  save_envelope(e, dir / "e.json");
  const proto::Envelope back = load_envelope(dir / "e.json");
  EXPECT_EQ(back.config_digest(), e.config_digest());
  proto::Envelope a = e, b = back;
  a.clear_config();  // JSON writes proto2 fields left at their default: they read back as set
  b.clear_config();
  EXPECT_EQ(b.SerializeAsString(), a.SerializeAsString());

  testing::write_file(dir / "bad.json", "{\"steps\": 3}");
  try {
    load_envelope(dir / "bad.json");
    ADD_FAILURE() << "accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::kInput);
    EXPECT_EQ(std::string(err.what()).rfind(dir / "bad.json", 0), 0u) << err.what();
  }
  EXPECT_THROW(load_envelope(dir / "missing.json"), Error);
}

}  // namespace
}  // namespace repro
