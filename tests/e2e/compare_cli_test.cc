// `repro compare`: real runs of the tiny synthetic MLP, compared by the real binary.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testutil.h"

namespace repro {
namespace {

using testing::run_repro;

// The run directory `repro run` printed on its last stdout line.
std::string run_dir_of(const testing::ProcessResult& r) {
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
}

// One 30-step run of models/configs/mlp_synthetic.textproto with `sets` overrides.
std::string run_mlp(const std::string& runs_dir, std::vector<std::string> sets) {
  std::vector<std::string> args = {"run",           "--config", testing::config_path("mlp_synthetic.textproto"),
                                   "--runs-dir",    runs_dir,   "--set",
                                   "train.steps=30"};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  const auto r = run_repro(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return run_dir_of(r);
}

class CompareCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir();
    const std::string runs = *tmp_ / "runs";
    base_ = new std::string(run_mlp(runs, {}));
    again_ = new std::string(run_mlp(runs, {}));
  }
  static void TearDownTestSuite() {
    delete base_;
    delete again_;
    delete tmp_;
  }
  static testing::TempDir* tmp_;
  static std::string* base_;
  static std::string* again_;
};

testing::TempDir* CompareCliTest::tmp_ = nullptr;
std::string* CompareCliTest::base_ = nullptr;
std::string* CompareCliTest::again_ = nullptr;

TEST_F(CompareCliTest, TwoRunsOfOneConfigAreIdentical) {
  const auto r = run_repro({"compare", *base_, *again_, "--no-color"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("IDENTICAL", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("identical: 30 steps bitwise equal"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\033["), std::string::npos);  // stdout is a file, not a terminal
  EXPECT_EQ(r.err, "");
}

TEST_F(CompareCliTest, AnotherLearningRateDivergesAfterTheFirstUpdate) {
  const std::string other = run_mlp(*tmp_ / "runs", {"optimizer.lr=0.05"});
  const auto r = run_repro({"compare", *base_, other, "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("\"verdict\": \"DIVERGED\""), std::string::npos) << r.out;
  // Step 0's loss comes before the first update, so it is equal; step 1's is not.
  EXPECT_NE(r.out.find("\"first_divergent_step\": \"1\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"field\": \"config.optimizer.lr\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"summary\": \"diverged at step 1: config.optimizer.lr 0.1 vs 0.05\""), std::string::npos)
      << r.out;

  const auto text = run_repro({"compare", *base_, other, "--no-color"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.out.rfind("DIVERGED", 0), 0u) << text.out;
  EXPECT_NE(text.out.find("another learning rate"), std::string::npos) << text.out;

  // A tolerance wide enough for the whole run makes it pass.
  const auto loose = run_repro({"compare", *base_, other, "--atol", "100", "--no-color"});
  EXPECT_EQ(loose.exit_code, 0) << loose.out;
  EXPECT_EQ(loose.out.rfind("WITHIN TOLERANCE", 0), 0u) << loose.out;
}

TEST_F(CompareCliTest, AnotherSeedDivergesAtStepZero) {
  const std::string other = run_mlp(*tmp_ / "runs", {"seed=43"});
  const auto r = run_repro({"compare", *base_, other, "--no-color"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("diverged at step 0: config.seed 42 vs 43"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("master seed 42 vs 43: every random draw differs"), std::string::npos) << r.out;
}

TEST_F(CompareCliTest, BadInputExitsTwoWithOneLine) {
  const std::vector<std::vector<std::string>> bad = {
      {"compare", *base_, *tmp_ / "no-such-run"},    {"compare", *base_},
      {"compare", *base_, *again_, "--rtol", "abc"}, {"compare", *base_, *again_, "--atol", "-1"},
      {"compare", *base_, *again_, "--bogus"},
  };
  for (const auto& args : bad) {
    const auto r = run_repro(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_EQ(r.err_lines()[0].rfind("repro: ", 0), 0u) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(CompareCliTest, CorruptHeaderExitsTwoNamingTheFile) {
  const std::string corrupt = *tmp_ / "corrupt";
  std::filesystem::create_directories(corrupt);
  testing::write_file(corrupt + "/record.pb", "not a protobuf \xff\xff\xff");
  const auto r = run_repro({"compare", *base_, corrupt});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("record.pb"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace repro
