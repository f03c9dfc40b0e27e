// Sweep planning (grid, --vary parsing, seeds) and statistics (sweep.cc, sweep_stats.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "repro/determinism.h"
#include "repro/error.h"
#include "repro/sweep.h"
#include "testutil.h"

namespace repro {
namespace {

TEST(SweepTest, MissingReproBinaryIsInputErrorBeforeAnythingRuns) {
  testing::TempDir dir;
  SweepOptions options;
  options.repro_binary = dir / "repro";
  options.report_dir = dir / "sweep";
  try {
    run_sweep(testing::config_path("mlp_synthetic.textproto"), options);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_EQ(std::string(e.what()), "SweepOptions::repro_binary: " + (dir / "repro") + " does not exist");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "sweep"));
}

TEST(SweepTest, StudentTQuantilesMatchTables) {
  // Two-sided 95% critical values (p = 0.975) from standard tables, to their printed digits.
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.7062047, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.3026527, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.975, 4), 2.7764451, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.975, 9), 2.2621572, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.0422725, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.995, 4), 4.6040949, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.975, 1e7), 1.9599640, 1e-5);  // the normal quantile
  // Exact closed forms: Cauchy (1 dof) t = tan(pi (p - 1/2)); 2 dof t = (2p-1) sqrt(2 / (4p(1-p))).
  EXPECT_NEAR(student_t_quantile(0.9, 1), std::tan(M_PI * 0.4), 1e-9);
  EXPECT_NEAR(student_t_quantile(0.8, 2), 0.6 * std::sqrt(2.0 / (4 * 0.8 * 0.2)), 1e-12);
  EXPECT_DOUBLE_EQ(student_t_quantile(0.5, 3), 0.0);
  EXPECT_DOUBLE_EQ(student_t_quantile(0.025, 4), -student_t_quantile(0.975, 4));
  EXPECT_THROW(student_t_quantile(1.0, 4), Error);
  EXPECT_THROW(student_t_quantile(0.975, 0), Error);
}

TEST(SweepTest, DescribeGivesExactFigures) {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squares 32, sample variance 32/7.
  const proto::Stats s = describe({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_EQ(s.n(), 8);
  EXPECT_DOUBLE_EQ(s.mean(), 5.0);
  EXPECT_DOUBLE_EQ(s.std(), std::sqrt(32.0 / 7.0));
  EXPECT_DOUBLE_EQ(s.min(), 2.0);
  EXPECT_DOUBLE_EQ(s.max(), 9.0);
  const double half = student_t_quantile(0.975, 7) * std::sqrt(32.0 / 7.0) / std::sqrt(8.0);
  EXPECT_DOUBLE_EQ(s.ci95_low(), 5.0 - half);
  EXPECT_DOUBLE_EQ(s.ci95_high(), 5.0 + half);
  EXPECT_NEAR(s.ci95_high(), 6.787488, 1e-6);  // 5 + 2.364624 * 2.138090 / 2.828427
  EXPECT_EQ(s.nonfinite(), 0);
}

TEST(SweepTest, DescribeLeavesOutNonFiniteAndSingleValues) {
  const proto::Stats s = describe({1.0, NAN, 3.0, INFINITY});
  EXPECT_EQ(s.n(), 2);
  EXPECT_EQ(s.nonfinite(), 2);
  EXPECT_DOUBLE_EQ(s.mean(), 2.0);
  EXPECT_DOUBLE_EQ(s.std(), std::sqrt(2.0));
  const proto::Stats one = describe({0.5});
  EXPECT_EQ(one.n(), 1);
  EXPECT_DOUBLE_EQ(one.mean(), 0.5);
  EXPECT_DOUBLE_EQ(one.std(), 0.0);
  EXPECT_FALSE(one.has_ci95_low());
  EXPECT_EQ(describe({}).n(), 0);
}

TEST(SweepTest, GridIsTheProductLastFieldFastest) {
  const auto grid = expand_grid({parse_vary("optimizer.lr=0.1,0.01"), parse_vary("train.batch_size=16,32,64")});
  ASSERT_EQ(grid.size(), 6u);
  EXPECT_EQ(grid[0], (std::vector<std::string>{"optimizer.lr=0.1", "train.batch_size=16"}));
  EXPECT_EQ(grid[1], (std::vector<std::string>{"optimizer.lr=0.1", "train.batch_size=32"}));
  EXPECT_EQ(grid[3], (std::vector<std::string>{"optimizer.lr=0.01", "train.batch_size=16"}));
  EXPECT_EQ(grid[5], (std::vector<std::string>{"optimizer.lr=0.01", "train.batch_size=64"}));
  EXPECT_EQ(expand_grid({}), (std::vector<std::vector<std::string>>{{}}));
  EXPECT_THROW(expand_grid({parse_vary("optimizer.lr=1"), parse_vary("optimizer.lr=2")}), Error);
}

TEST(SweepTest, VaryParsesListsAndRejectsBadSpecs) {
  const auto list = parse_vary("model.mlp.hidden=64,32;128");
  EXPECT_EQ(list.field, "model.mlp.hidden");
  EXPECT_EQ(list.values, (std::vector<std::string>{"64,32", "128"}));
  for (const char* bad :
       {"optimizer.lr", "=1,2", "optimizer.lr=", "optimizer.lr=1,,2", "optimizer.lr=1,1", "seed=1,2"}) {
    try {
      parse_vary(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage) << bad;
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(SweepTest, SeedsAreDerivedFromTheMasterSeed) {
  const auto seeds = sweep_seeds(42, 5);
  ASSERT_EQ(seeds.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(seeds[i], derive_seed(42, "sweep/" + std::to_string(i + 1)));
  EXPECT_EQ(sweep_seeds(42, 3), std::vector<std::uint64_t>(seeds.begin(), seeds.begin() + 3));
  EXPECT_NE(sweep_seeds(43, 5), seeds);
}

proto::SweepSetting setting_with(const std::vector<std::string>& assignments, double mean, double std) {
  proto::SweepSetting s;
  for (const auto& a : assignments) s.add_assignments(a);
  auto* m = s.add_metrics();
  m->set_name("final_loss");
  m->mutable_stats()->set_n(5);
  m->mutable_stats()->set_mean(mean);
  m->mutable_stats()->set_std(std);
  return s;
}

TEST(SweepTest, SensitivityComparesValueMeansWithPooledSeedSpread) {
  proto::SweepReport report;
  auto* lr = report.add_varied();
  lr->set_field("optimizer.lr");
  lr->add_values("0.1");
  lr->add_values("1");
  auto* bs = report.add_varied();
  bs->set_field("train.batch_size");
  bs->add_values("16");
  bs->add_values("32");
  *report.add_settings() = setting_with({"optimizer.lr=0.1", "train.batch_size=16"}, 1.0, 0.1);
  *report.add_settings() = setting_with({"optimizer.lr=0.1", "train.batch_size=32"}, 1.2, 0.1);
  *report.add_settings() = setting_with({"optimizer.lr=1", "train.batch_size=16"}, 3.0, 0.3);
  *report.add_settings() = setting_with({"optimizer.lr=1", "train.batch_size=32"}, 3.4, 0.3);
  const auto table = sensitivity(report);
  ASSERT_EQ(table.size(), 2u);
  const double pooled = std::sqrt((0.01 + 0.01 + 0.09 + 0.09) / 4);
  EXPECT_EQ(table[0].field(), "optimizer.lr");
  EXPECT_EQ(table[0].metric(), "final_loss");
  EXPECT_DOUBLE_EQ(table[0].values(0).mean(), 1.1);
  EXPECT_DOUBLE_EQ(table[0].values(1).mean(), 3.2);
  EXPECT_DOUBLE_EQ(table[0].effect(), 3.2 - 1.1);
  EXPECT_DOUBLE_EQ(table[0].seed_std(), pooled);
  EXPECT_DOUBLE_EQ(table[0].ratio(), (3.2 - 1.1) / pooled);
  EXPECT_EQ(table[1].field(), "train.batch_size");
  EXPECT_DOUBLE_EQ(table[1].effect(), 2.3 - 2.0);
  EXPECT_LT(table[1].ratio(), table[0].ratio());
}

TEST(SweepTest, ProgramSweepChecksProgramAndAssignmentsBeforeAnythingRuns) {
  testing::TempDir dir;
  SweepOptions options;
  options.report_dir = dir / "sweep";
  const Error missing = testing::thrown_error([&] { sweep_program({dir / "train", "data"}, options); });
  EXPECT_EQ(missing.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(missing.what()), "sweep program: " + (dir / "train") + " does not exist");
  EXPECT_EQ(testing::error_message([&] { sweep_program({}, options); }), "sweep program: no program given");

  const std::string sh = "/bin/sh";
  options.sets = {"seed=3"};
  EXPECT_EQ(testing::error_message([&] { sweep_program({sh}, options); }),
            "SweepOptions::sets seed=3: a program sweep derives its seeds from SweepOptions::base_seed");
  options.sets = {"params.lr"};
  EXPECT_EQ(testing::error_message([&] { sweep_program({sh}, options); }),
            "SweepOptions::sets params.lr: expected path=value");
  options.sets = {};
  options.vary = {"seed=1,2"};
  EXPECT_EQ(testing::error_message([&] { sweep_program({sh}, options); }),
            "SweepOptions::vary seed=1,2: seeds are varied with SweepOptions::seeds");
  options.vary = {};
  options.seeds = 1;
  EXPECT_EQ(testing::error_message([&] { sweep_program({sh}, options); }), "SweepOptions::seeds: must be >= 2 (got 1)");
  EXPECT_FALSE(std::filesystem::exists(dir / "sweep"));
}

// With named step values, each series' last value is a final metric of its own.
TEST(SweepTest, FinalMetricsNameEveryRecordedSeries) {
  RunData run;
  auto& step = run.steps.emplace_back();
  step.set_step(9);
  step.set_loss_f32(0.75f);
  auto* d = step.add_values();
  d->set_name("d_loss");
  d->set_f32(0.75f);
  auto* g = step.add_values();
  g->set_name("g_loss");
  g->set_f64(1.0625);
  auto* eval = run.header.add_final_evals();
  eval->set_split("test");
  (*eval->mutable_metrics())["accuracy"] = 0.5;
  const std::map<std::string, double> expected = {
      {"final_loss", 0.75}, {"final_d_loss", 0.75}, {"final_g_loss", 1.0625}, {"test/accuracy", 0.5}};
  EXPECT_EQ(final_metrics(run), expected);

  proto::SweepSetting setting;
  setting.add_runs();
  summarize_setting({&run}, &setting);
  std::vector<std::string> names;
  for (const auto& m : setting.metrics()) names.push_back(m.name());
  EXPECT_EQ(names, (std::vector<std::string>{"final_loss", "final_d_loss", "final_g_loss", "test/accuracy"}));
}

}  // namespace
}  // namespace repro
