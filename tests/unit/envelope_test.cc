// Envelope baselines: the band formula, saving and loading, containment (envelope.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

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

// A GAN-like run: record_step with two named values, d_loss (the primary series, also the
// loss) and g_loss.
RunData gan_run(const std::vector<float>& d, const std::vector<float>& g) {
  RunData run;
  run.dir = "runs/gan";
  run.header.add_series("d_loss");
  run.header.add_series("g_loss");
  for (std::size_t i = 0; i < d.size(); ++i) {
    proto::StepRecord step;
    step.set_step(static_cast<int64_t>(i));
    step.set_loss_f32(d[i]);
    auto* dv = step.add_values();
    dv->set_name("d_loss");
    dv->set_f32(d[i]);
    if (i < g.size()) {
      auto* gv = step.add_values();
      gv->set_name("g_loss");
      gv->set_f32(g[i]);
    }
    run.steps.push_back(step);
  }
  return run;
}

proto::SweepSetting three_gan_seeds() {
  std::vector<RunData> runs = {gan_run({1.4f, 1.2f, 1.0f}, {0.7f, 0.9f, 1.1f}),
                               gan_run({1.3f, 1.1f, 1.0f}, {0.6f, 0.8f, 1.0f}),
                               gan_run({1.5f, 1.3f, 1.2f}, {0.8f, 1.0f, 1.2f})};
  proto::SweepSetting setting;
  std::vector<const RunData*> pointers;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    setting.add_runs()->set_seed(i + 1);
    pointers.push_back(&runs[i]);
  }
  summarize_setting(pointers, &setting);
  return setting;
}

TEST(EnvelopeTest, EachNamedSeriesGetsItsOwnBandWithItsOwnScale) {
  const proto::SweepSetting setting = three_gan_seeds();
  ASSERT_EQ(setting.steps_size(), 3);
  ASSERT_EQ(setting.steps(1).series_size(), 1) << "d_loss is the loss; g_loss the other series";
  EXPECT_EQ(setting.steps(1).series(0).name(), "g_loss");
  EXPECT_EQ(setting.steps(1).series(0).stats().n(), 3);
  EXPECT_EQ(setting.steps(1).series(0).stats().min(), double{0.8f});
  EXPECT_EQ(setting.steps(1).series(0).stats().max(), double{1.0f});

  const proto::Envelope e = make_envelope(setting, proto::RunConfig(), 2.0, 0.1);
  ASSERT_EQ(e.steps(1).series_size(), 1);
  const proto::Band& g = e.steps(1).series(0).band();
  // g_loss at step 1: 0.9, 0.8, 1.0; its L0 is its own mean at step 0 (0.7), not d_loss's (1.4).
  const double a = 0.9f, b = 0.8f, c = 1.0f;
  const double mean = (a + b + c) / 3;
  const double sd = std::sqrt(((a - mean) * (a - mean) + (b - mean) * (b - mean) + (c - mean) * (c - mean)) / 2);
  const double l0 = (double{0.7f} + double{0.6f} + double{0.8f}) / 3;
  const double margin = 2.0 * sd + 0.1 * std::max(mean, l0);
  EXPECT_EQ(e.steps(1).series(0).name(), "g_loss");
  EXPECT_NEAR(g.low(), b - margin, 1e-12);
  EXPECT_NEAR(g.high(), c + margin, 1e-12);
  // The final metrics include the last value of each series.
  bool final_g = false;
  for (const auto& m : e.metrics()) final_g = final_g || m.name() == "final_g_loss";
  EXPECT_TRUE(final_g);
}

TEST(EnvelopeTest, ASeriesOutsideItsBandIsNamedWhileTheLossIsInside) {
  const proto::Envelope e = make_envelope(three_gan_seeds(), proto::RunConfig(), 2.0, 0.1);
  const auto inside = check_envelope(e, gan_run({1.4f, 1.2f, 1.1f}, {0.7f, 0.9f, 1.1f}));
  EXPECT_TRUE(inside.inside()) << format_envelope_check(inside);

  // d_loss (the loss) stays in its band at every step; g_loss leaves its band at step 2.
  const auto outside = check_envelope(e, gan_run({1.4f, 1.2f, 1.1f}, {0.7f, 0.9f, 4.0f}));
  EXPECT_FALSE(outside.inside());
  ASSERT_TRUE(outside.has_first_step_outside());
  EXPECT_EQ(outside.first_step_outside(), 2);
  EXPECT_EQ(outside.series(), "g_loss");
  EXPECT_EQ(outside.loss(), 4.0);
  EXPECT_EQ(outside.low(), e.steps(2).series(0).band().low());
  EXPECT_EQ(outside.steps_outside(), 1);
  ASSERT_GE(outside.outside_size(), 1);
  EXPECT_EQ(outside.outside(0).rfind("step 2: g_loss 4 outside [", 0), 0u) << outside.outside(0);
  const std::string text = format_envelope_check(outside);
  EXPECT_EQ(text.rfind("outside the envelope at step 2: g_loss 4 not in [", 0), 0u) << text;

  // The loss outside is named by the primary series' name.
  const auto d_out = check_envelope(e, gan_run({1.4f, 9.0f, 1.1f}, {0.7f, 0.9f, 1.1f}));
  EXPECT_EQ(d_out.first_step_outside(), 1);
  EXPECT_EQ(d_out.series(), "d_loss");
}

TEST(EnvelopeTest, AMissingSeriesIsOutsideAndTheFirstStepOutsideLeads) {
  const proto::Envelope e = make_envelope(three_gan_seeds(), proto::RunConfig(), 2.0, 0.1);
  // No g_loss at steps 1 and 2 (a run that records one loss), and d_loss far off at step 2.
  const auto check = check_envelope(e, gan_run({1.4f, 1.2f, 9.0f}, {0.7f}));
  EXPECT_FALSE(check.inside());
  EXPECT_EQ(check.first_step_outside(), 2);
  EXPECT_EQ(check.series(), "d_loss");
  EXPECT_EQ(check.steps_outside(), 1) << "a missing value is named, not counted as outside its band";
  ASSERT_GE(check.outside_size(), 3);
  EXPECT_EQ(check.outside(0).rfind("step 2: d_loss 9 outside [", 0), 0u) << check.outside(0);
  EXPECT_EQ(check.outside(1), "step 1: g_loss missing from the run");
  EXPECT_EQ(check.outside(2), "2 values of the envelope's series missing from the run");
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

// Bands that judge nothing (NaN, inverted) and steps out of order are refused when read, naming
// the file and the band.
TEST(EnvelopeTest, BadBandsAreRefusedNamingTheBand) {
  testing::TempDir dir;
  const proto::Envelope good = make_envelope(three_gan_seeds(), proto::RunConfig(), 2.0, 0.1);
  const std::string path = dir / "e.json";
  const auto error_of = [&](const std::function<void(proto::Envelope*)>& damage) {
    proto::Envelope e = good;
    damage(&e);
    save_envelope(e, path);
    const Error err = testing::thrown_error([&] { load_envelope(path); });
    EXPECT_EQ(err.kind(), ErrorKind::kInput) << err.what();
    return std::string(err.what());
  };
  EXPECT_EQ(error_of([](proto::Envelope* e) { e->mutable_steps(1)->mutable_loss()->set_low(std::nan("")); }),
            path + ": steps[1] (step 1) loss: band bound is NaN");
  EXPECT_EQ(error_of([](proto::Envelope* e) {
              e->mutable_steps(2)->mutable_series(0)->mutable_band()->set_low(5);
              e->mutable_steps(2)->mutable_series(0)->mutable_band()->set_high(4);
            }),
            path + ": steps[2] (step 2) g_loss: band low 5 > high 4");
  EXPECT_EQ(error_of([](proto::Envelope* e) { e->mutable_steps(2)->set_step(1); }),
            path + ": steps[2] (step 1): steps must increase (after step 1)");
  EXPECT_EQ(error_of([](proto::Envelope* e) { e->mutable_steps(0)->set_step(-3); }),
            path + ": steps[0] (step -3): a step is >= 0");
  EXPECT_EQ(error_of([](proto::Envelope* e) { *e->add_metrics() = e->metrics(0); }),
            path + ": metrics[" + std::to_string(good.metrics_size()) + "] (final_loss): metric named twice");
  save_envelope(good, path);
  EXPECT_EQ(load_envelope(path).steps(2).series(0).name(), "g_loss");
}

}  // namespace
}  // namespace repro
