// compare_runs, header_differences, format_report: runs built in memory.
#include "repro/compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <tuple>

#include "repro/data.h"
#include "testutil.h"

namespace repro {
namespace {

using ::testing::HasSubstr;

float loss_at(int64_t step) { return 2.0f / static_cast<float>(step + 1) + 0.125f; }

// A finished run of `steps` steps with f32 losses, a parameter digest every 10 steps, a final
// digest and a test evaluation.
RunData make_run(int64_t steps) {
  RunData run;
  run.dir = "runs/a";
  run.status = proto::FINISHED;
  run.header.set_run_id("run-a");
  run.header.set_status(proto::FINISHED);
  run.header.mutable_config()->set_seed(42);
  run.header.set_seed(42);
  run.header.set_final_param_digest("final-digest");
  auto* eval = run.header.add_final_evals();
  eval->set_step(steps);
  eval->set_split("test");
  (*eval->mutable_metrics())["accuracy"] = 0.75;
  (*eval->mutable_metrics())["loss"] = 0.5;
  for (int64_t s = 0; s < steps; ++s) {
    proto::StepRecord step;
    step.set_step(s);
    step.set_loss_f32(loss_at(s));
    if (s % 10 == 0) step.set_param_digest("digest-" + std::to_string(s));
    run.steps.push_back(step);
  }
  return run;
}

void flip_low_bit(proto::StepRecord& step) {
  float f = step.loss_f32();
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits ^= 1u;
  std::memcpy(&f, &bits, sizeof f);
  step.set_loss_f32(f);
}

const proto::Difference* find_field(const std::vector<proto::Difference>& diffs, const std::string& field) {
  for (const auto& d : diffs) {
    if (d.field() == field) return &d;
  }
  return nullptr;
}
const proto::Difference* find_field(const google::protobuf::RepeatedPtrField<proto::Difference>& diffs,
                                    const std::string& field) {
  for (const auto& d : diffs) {
    if (d.field() == field) return &d;
  }
  return nullptr;
}

TEST(CompareTest, IdenticalRuns) {
  const RunData a = make_run(50), b = make_run(50);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::IDENTICAL);
  EXPECT_EQ(r.steps_compared(), 50);
  EXPECT_FALSE(r.has_first_divergent_step());
  EXPECT_FALSE(r.has_first_param_digest_divergent_step());
  EXPECT_EQ(r.steps_size(), 0);
  EXPECT_EQ(r.differences_size(), 0);
  EXPECT_EQ(r.stopped_early(), "");
  EXPECT_EQ(r.metrics_size(), 2);
  EXPECT_EQ(r.summary(), "identical: 50 steps bitwise equal");
  EXPECT_EQ(exit_code_of(r), 0);
}

TEST(CompareTest, OneFlippedBitDivergesAtThatStep) {
  const RunData a = make_run(50);
  RunData b = make_run(50);
  flip_low_bit(b.steps[7]);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  ASSERT_TRUE(r.has_first_divergent_step());
  EXPECT_EQ(r.first_divergent_step(), 7);
  EXPECT_EQ(r.first_out_of_tolerance_step(), 7);
  EXPECT_THAT(r.summary(), HasSubstr("diverged at step 7"));
  // Window: 3 before, the step itself, 5 after.
  ASSERT_EQ(r.steps_size(), 9);
  EXPECT_EQ(r.steps(0).step(), 4);
  EXPECT_EQ(r.steps(3).step(), 7);
  EXPECT_EQ(r.steps(8).step(), 12);
  EXPECT_NE(r.steps(3).loss_a_bits(), r.steps(3).loss_b_bits());
  EXPECT_EQ(r.steps(2).abs_diff(), 0);
  EXPECT_GT(r.steps(3).abs_diff(), 0);
  EXPECT_GT(r.max_abs_loss_diff(), 0);
  EXPECT_LT(r.max_abs_loss_diff(), 1e-6);
  EXPECT_EQ(exit_code_of(r), 1);
  const std::string text = format_report(r, /*color=*/false);
  EXPECT_EQ(text.rfind("DIVERGED", 0), 0u) << text;
  EXPECT_THAT(text, HasSubstr("first divergent step"));
  EXPECT_EQ(text.find("\033["), std::string::npos);
  EXPECT_THAT(format_report(r, /*color=*/true), HasSubstr("\033[31mDIVERGED"));
}

TEST(CompareTest, WindowCentresOnTheLossDivergenceEvenAfterADigestOne) {
  const RunData a = make_run(50);
  RunData b = make_run(50);
  b.steps[0].set_param_digest("other");  // parameters after step 0's update differ
  flip_low_bit(b.steps[20]);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.first_param_digest_divergent_step(), 0);
  EXPECT_EQ(r.first_divergent_step(), 20);
  EXPECT_THAT(r.summary(), HasSubstr("diverged at step 20"));
  ASSERT_EQ(r.steps_size(), 9);
  EXPECT_EQ(r.steps(0).step(), 17);
  EXPECT_TRUE(r.steps(3).param_digest_compared());
  EXPECT_TRUE(r.steps(3).param_digest_equal());
}

TEST(CompareTest, BitsOfNanAreCompared) {
  RunData a = make_run(5), b = make_run(5);
  a.steps[2].set_loss_f32(std::nanf(""));
  b.steps[2].set_loss_f32(std::nanf(""));
  EXPECT_EQ(compare_runs(a, b).verdict(), proto::IDENTICAL);
  b.steps[3].set_loss_f32(std::nanf(""));
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  EXPECT_EQ(r.first_divergent_step(), 3);
}

TEST(CompareTest, SmallDifferenceWithinAbsoluteTolerance) {
  const RunData a = make_run(50);
  RunData b = make_run(50);
  flip_low_bit(b.steps[7]);
  b.steps[10].set_param_digest("other");
  Tolerance t;
  t.atol = 1e-6;
  const auto r = compare_runs(a, b, t);
  EXPECT_EQ(r.verdict(), proto::WITHIN_TOLERANCE);
  EXPECT_EQ(r.first_divergent_step(), 7);
  EXPECT_EQ(r.first_param_digest_divergent_step(), 10);
  EXPECT_FALSE(r.has_first_out_of_tolerance_step());
  EXPECT_EQ(r.tolerance().atol(), 1e-6);
  EXPECT_EQ(exit_code_of(r), 0);
}

TEST(CompareTest, StepsBeforeFromStepAreNotJudged) {
  const RunData a = make_run(50);
  RunData b = make_run(50);
  b.steps[3].set_loss_f32(9.0f);
  Tolerance t;
  t.from_step = 5;
  auto r = compare_runs(a, b, t);
  EXPECT_EQ(r.verdict(), proto::WITHIN_TOLERANCE);
  EXPECT_EQ(r.first_divergent_step(), 3);
  EXPECT_FALSE(r.has_first_out_of_tolerance_step());
  b.steps[20].set_loss_f32(9.0f);
  r = compare_runs(a, b, t);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  EXPECT_EQ(r.first_out_of_tolerance_step(), 20);
}

TEST(CompareTest, RunThatStoppedEarlyIsComparedOverCommonSteps) {
  const RunData a = make_run(200);
  RunData b = make_run(200);
  b.steps.resize(120);
  b.status = proto::INTERRUPTED;
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.steps_compared(), 120);
  EXPECT_EQ(r.steps_a(), 200);
  EXPECT_EQ(r.steps_b(), 120);
  EXPECT_EQ(r.stopped_early(), "run B stopped after 120 of 200 steps (interrupted); compared steps 0..119");
  EXPECT_EQ(r.verdict(), proto::IDENTICAL);  // the final digest is not compared: B never got there
}

// An interrupted run against a finished one: its last evaluation (at another step) is not
// paired with the finished run's final one, and a seed only the finished run drew (an epoch
// the interrupted run never reached) is not named.
TEST(CompareTest, AnInterruptedRunIsComparedOnlyOverWhatBothReached) {
  RunData a = make_run(200);
  RunData b = make_run(200);
  b.steps.resize(120);
  b.status = proto::INTERRUPTED;
  b.header.set_status(proto::RUNNING);
  b.header.mutable_final_evals(0)->set_step(100);
  (*b.header.mutable_final_evals(0)->mutable_metrics())["accuracy"] = 0.5;
  for (auto* run : {&a, &b}) {
    auto* s = run->header.add_seeds();
    s->set_purpose("data.shuffle/epoch/0");
    s->set_seed(11);
  }
  auto* late = a.header.add_seeds();
  late->set_purpose("data.shuffle/epoch/1");
  late->set_seed(12);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::IDENTICAL) << r.summary();
  EXPECT_EQ(r.metrics_size(), 0) << "evaluations of other steps are not paired";
  EXPECT_EQ(find_field(r.differences(), "seeds[data.shuffle/epoch/1]"), nullptr);

  // Both finished: a seed that only one run drew is a difference.
  b = make_run(200);
  const auto finished = compare_runs(a, b);
  const auto* seed = find_field(finished.differences(), "seeds[data.shuffle/epoch/1]");
  ASSERT_NE(seed, nullptr);
  EXPECT_EQ(seed->a(), "12");
  EXPECT_EQ(seed->b(), "");
}

// `repro resume --intra-op-threads 2`: the resume's environment change is named as the cause
// of a divergence after it, unless the other run was resumed the same way.
TEST(CompareTest, AResumeInAnotherEnvironmentIsNamed) {
  const RunData a = make_run(20);
  RunData b = make_run(20);
  auto* resume = b.header.add_resumes();
  resume->set_from_step(10);
  resume->add_environment_differences("threads.intra_op: 1 -> 2");
  flip_low_bit(b.steps[12]);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  const auto* d = find_field(r.differences(), "resumes[0].environment");
  ASSERT_NE(d, nullptr) << r.DebugString();
  EXPECT_TRUE(d->affects_numerics());
  EXPECT_EQ(d->a(), "");
  EXPECT_EQ(d->b(), "threads.intra_op: 1 -> 2");
  EXPECT_EQ(d->explanation(), "run B was resumed at step 10 in another environment: threads.intra_op: 1 -> 2");
  EXPECT_EQ(r.summary(),
            "diverged at step 12: run B was resumed at step 10 in another environment: threads.intra_op: 1 -> 2");

  RunData c = b;
  const auto same = compare_runs(b, c);
  EXPECT_EQ(find_field(same.differences(), "resumes[0].environment"), nullptr);
}

TEST(CompareTest, NoCommonStepsIsIncomparable) {
  const RunData a = make_run(10);
  RunData b = make_run(10);
  for (auto& s : b.steps) s.set_step(s.step() + 100);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::INCOMPARABLE);
  EXPECT_EQ(r.steps_compared(), 0);
  EXPECT_THAT(r.summary(), HasSubstr("incomparable"));
  EXPECT_EQ(exit_code_of(r), 1);
}

TEST(CompareTest, FinalDigestAndMetricsCount) {
  const RunData a = make_run(20);
  RunData b = make_run(20);
  b.header.set_final_param_digest("other");
  auto r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  EXPECT_EQ(r.first_param_digest_divergent_step(), 19);
  b = make_run(20);
  (*b.header.mutable_final_evals(0)->mutable_metrics())["accuracy"] = 0.7500001;
  r = compare_runs(a, b);
  EXPECT_EQ(r.verdict(), proto::DIVERGED);
  EXPECT_THAT(r.summary(), HasSubstr("final metrics"));
  ASSERT_EQ(r.metrics_size(), 2);
  EXPECT_EQ(r.metrics(0).metric(), "accuracy");
  EXPECT_FALSE(r.metrics(0).within_tolerance());
  EXPECT_TRUE(r.metrics(1).within_tolerance());
}

TEST(CompareTest, SeedIsNamedAsTheCause) {
  const RunData a = make_run(10);
  RunData b = make_run(10);
  b.header.mutable_config()->set_seed(43);
  b.header.set_seed(43);
  b.header.add_seeds()->set_purpose("torch.default");  // derived seeds are not listed again
  b.steps[0].set_loss_f32(3.0f);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.summary(), "diverged at step 0: config.seed 42 vs 43");
  ASSERT_EQ(r.differences_size(), 1);
  EXPECT_EQ(r.differences(0).category(), "seed");
  EXPECT_EQ(r.differences(0).explanation(), "master seed 42 vs 43: every random draw differs");
}

TEST(CompareTest, ConfigFieldsByReflection) {
  proto::RunRecord a, b;
  a.mutable_config()->mutable_optimizer()->set_lr(0.1);
  b.mutable_config()->mutable_optimizer()->set_lr(0.05);
  a.mutable_config()->mutable_record()->set_runs_dir("x");
  b.mutable_config()->mutable_record()->set_runs_dir("y");
  const auto diffs = header_differences(a, b);
  const auto* lr = find_field(diffs, "config.optimizer.lr");
  ASSERT_NE(lr, nullptr);
  EXPECT_EQ(lr->a(), "0.1");
  EXPECT_EQ(lr->b(), "0.05");
  EXPECT_TRUE(lr->affects_numerics());
  EXPECT_EQ(lr->explanation(), "optimizer.lr 0.1 vs 0.05: another learning rate");
  const auto* runs_dir = find_field(diffs, "config.record.runs_dir");
  ASSERT_NE(runs_dir, nullptr);
  EXPECT_FALSE(runs_dir->affects_numerics());
  EXPECT_EQ(diffs.size(), 2u);
}

TEST(CompareTest, IntraOpThreadsInConfigAndEnvironment) {
  proto::RunRecord a, b;
  a.mutable_config()->mutable_determinism()->set_intra_op_threads(1);
  b.mutable_config()->mutable_determinism()->set_intra_op_threads(2);
  a.mutable_environment()->mutable_threads()->set_intra_op(1);
  b.mutable_environment()->mutable_threads()->set_intra_op(2);
  const auto diffs = header_differences(a, b);
  ASSERT_EQ(diffs.size(), 2u);
  const auto* config = find_field(diffs, "config.determinism.intra_op_threads");
  const auto* env = find_field(diffs, "environment.threads.intra_op");
  ASSERT_NE(config, nullptr);
  ASSERT_NE(env, nullptr);
  EXPECT_TRUE(config->affects_numerics());
  EXPECT_TRUE(env->affects_numerics());
  EXPECT_THAT(config->explanation(), HasSubstr("reductions"));
  EXPECT_EQ(env->explanation(), "intra-op threads 1 vs 2: parallel reductions may sum in another order");
}

TEST(CompareTest, DataFileContentNamedByFileName) {
  proto::RunRecord a, b;
  auto* fa = a.mutable_data()->add_files();
  fa->set_role("train-images");
  fa->set_path("/data/fashion/train-images-idx3-ubyte.gz");
  fa->set_size(100);
  fa->set_xxh3("aaaa");
  *b.mutable_data()->add_files() = *fa;
  b.mutable_data()->mutable_files(0)->set_xxh3("bbbb");
  const auto diffs = header_differences(a, b);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].category(), "data");
  EXPECT_TRUE(diffs[0].affects_numerics());
  EXPECT_THAT(diffs[0].explanation(), HasSubstr("train-images-idx3-ubyte.gz content changed"));
}

TEST(CompareTest, NumericsVariableAddedAndHostname) {
  proto::RunRecord a, b;
  (*b.mutable_environment()->mutable_numerics_env())["OMP_NUM_THREADS"] = "4";
  a.mutable_environment()->mutable_os()->set_hostname("alpha");
  b.mutable_environment()->mutable_os()->set_hostname("beta");
  const auto diffs = header_differences(a, b);
  ASSERT_EQ(diffs.size(), 2u);
  const auto* omp = find_field(diffs, "environment.numerics_env[OMP_NUM_THREADS]");
  ASSERT_NE(omp, nullptr);
  EXPECT_TRUE(omp->affects_numerics());
  EXPECT_EQ(omp->b(), "4");
  EXPECT_THAT(omp->explanation(), HasSubstr("added"));
  const auto* host = find_field(diffs, "environment.os.hostname");
  ASSERT_NE(host, nullptr);
  EXPECT_FALSE(host->affects_numerics());
}

TEST(CompareTest, ReportListsNumericsAffectingDifferencesFirst) {
  RunData a = make_run(10), b = make_run(10);
  // The config's record section is walked first, but does not change numbers.
  a.header.mutable_config()->mutable_record()->set_runs_dir("x");
  b.header.mutable_config()->mutable_record()->set_runs_dir("y");
  (*b.header.mutable_environment()->mutable_numerics_env())["OMP_NUM_THREADS"] = "4";
  const auto report = compare_runs(a, b);
  EXPECT_EQ(report.summary(),
            "identical: 10 steps bitwise equal despite environment.numerics_env[OMP_NUM_THREADS] (unset) vs 4");
  const std::string text = format_report(report, false);
  EXPECT_EQ(text.rfind("IDENTICAL", 0), 0u) << text;
  const auto omp = text.find("environment.numerics_env[OMP_NUM_THREADS]");
  const auto host = text.find("config.record.runs_dir");
  ASSERT_NE(omp, std::string::npos) << text;
  ASSERT_NE(host, std::string::npos) << text;
  EXPECT_LT(omp, host);
}

// A tracked directory is named by its files, from the manifests in the two run directories.
TEST(CompareTest, DirectoryDifferenceNamesFilesFromTheManifests) {
  testing::TempDir dir;
  proto::DataManifest ma, mb;
  auto add = [](proto::DataManifest& m, const std::string& path, const std::string& digest) {
    auto* e = m.add_entries();
    e->set_path(path);
    e->set_size(1);
    e->set_xxh3(digest);
  };
  add(ma, "labels.csv", "1");
  add(mb, "labels.csv", "2");
  add(mb, "new.png", "3");
  proto::RunRecord a, b;
  const std::string da = dir / "a", db = dir / "b";
  for (const auto& [h, m, run] : {std::make_tuple(&a, &ma, da), std::make_tuple(&b, &mb, db)}) {
    std::filesystem::create_directories(run + "/data");
    testing::write_file(run + "/data/argv-1.manifest.pb", m->SerializeAsString());
    auto* f = h->mutable_data()->add_files();
    f->set_role("argv[1]");
    f->set_path("data/train");
    f->set_directory(true);
    f->set_file_count(m->entries_size());
    f->set_xxh3(manifest_digest(*m));
    f->set_manifest("data/argv-1.manifest.pb");
    f->set_tracked_by(proto::TRACKED_BY_ARGV);
  }
  const auto find = [](const std::vector<proto::Difference>& diffs) -> const proto::Difference* {
    for (const auto& d : diffs) {
      if (d.field() == "data.files[argv[1]].files") return &d;
    }
    return nullptr;
  };
  const auto named = header_differences(a, b, da, db);
  const auto* d = find(named);
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->affects_numerics());
  EXPECT_EQ(d->explanation(), "data/train: 1 file added, 1 changed (added: new.png; changed: labels.csv)");
  EXPECT_EQ(d->a(), manifest_digest(ma));
  const auto counted = header_differences(a, b);
  ASSERT_NE(find(counted), nullptr);
  EXPECT_EQ(find(counted)->explanation(), "data/train: content changed (1 file vs 2 files)");
}

}  // namespace
}  // namespace repro
