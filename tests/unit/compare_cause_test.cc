// The cause compare_runs names in its summary when several recorded differences could explain
// a divergence: what certainly changes the numbers (a kernel another machine chose) before what
// only says the code may differ (another build, a run made outside git); a known other commit
// before both.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "repro/compare.h"

namespace repro {
namespace {

// Two finished 4-step runs whose losses part at step 1; B made in a git checkout (dirty), A
// outside one, with other builds and other oneDNN kernels.
std::pair<RunData, RunData> rerun_on_another_machine() {
  RunData a, b;
  for (RunData* run : {&a, &b}) {
    run->status = proto::FINISHED;
    run->header.set_status(proto::FINISHED);
    for (int s = 0; s < 4; ++s) {
      proto::StepRecord step;
      step.set_step(s);
      step.set_loss_f32(1.0f / static_cast<float>(s + 1) + (run == &b && s > 0 ? 0.001f : 0.0f));
      run->steps.push_back(step);
    }
  }
  a.header.mutable_code()->set_executable_xxh3("build-a");
  b.header.mutable_code()->set_executable_xxh3("build-b");
  b.header.mutable_code()->set_git_commit("e752457cad5f2e310be914b123826eddc0478e94");
  b.header.mutable_code()->set_git_dirty(true);
  a.header.mutable_environment()->mutable_onednn()->set_effective_isa("avx2");
  b.header.mutable_environment()->mutable_onednn()->set_effective_isa("avx512_core_amx");
  return {a, b};
}

const proto::Difference* find_field(const proto::ComparisonReport& r, const std::string& field) {
  for (const auto& d : r.differences()) {
    if (d.field() == field) return &d;
  }
  return nullptr;
}

TEST(CompareCauseTest, KernelChoiceBeforeAnUnknownCommitAndAnotherBuild) {
  const auto [a, b] = rerun_on_another_machine();
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.summary(), "diverged at step 1: environment.onednn.effective_isa avx2 vs avx512_core_amx");
  const proto::Difference* commit = find_field(r, "code.git_commit");
  ASSERT_NE(commit, nullptr);
  EXPECT_TRUE(commit->affects_numerics());
  EXPECT_EQ(commit->explanation(),
            "git commit (none) vs e752457cad5f2e310be914b123826eddc0478e94: run A was not made in a git checkout: "
            "the code may differ");
  // Uncommitted changes have no commit to be held against on A's side.
  EXPECT_EQ(find_field(r, "code.git_dirty"), nullptr);
  EXPECT_NE(find_field(r, "code.executable_xxh3"), nullptr);
}

TEST(CompareCauseTest, AnotherKnownCommitComesFirst) {
  auto [a, b] = rerun_on_another_machine();
  a.header.mutable_code()->set_git_commit("0123456789abcdef0123456789abcdef01234567");
  a.header.mutable_code()->set_git_dirty(true);
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.summary().rfind("diverged at step 1: code.git_commit 0123456789abcdef", 0), 0u) << r.summary();
}

TEST(CompareCauseTest, AnotherBuildAloneIsStillNamed) {
  auto [a, b] = rerun_on_another_machine();
  b.header.mutable_code()->clear_git_commit();
  b.header.mutable_code()->set_git_dirty(false);
  b.header.mutable_environment()->mutable_onednn()->set_effective_isa("avx2");
  const auto r = compare_runs(a, b);
  EXPECT_EQ(r.summary(), "diverged at step 1: code.executable_xxh3 build-a vs build-b");
}

}  // namespace
}  // namespace repro
