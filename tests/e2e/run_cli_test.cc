// `repro run`: bitwise-repeatable runs across fresh processes, crash-safe records, bad input.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::run_repro;

using testing::config_path;

// The run directory `repro run` printed on its last stdout line.
std::string run_dir_of(const testing::ProcessResult& r) {
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
}

RunData run_once(const std::string& config, const std::string& runs_dir, std::vector<std::string> sets) {
  std::vector<std::string> args = {"run", "--config", config_path(config), "--runs-dir", runs_dir};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  const auto r = run_repro(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return read_run(run_dir_of(r));
}

uint32_t loss_bits(const proto::StepRecord& s) {
  uint32_t bits = 0;
  const float f = s.loss_f32();
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

void expect_bitwise_identical(const RunData& a, const RunData& b, int64_t steps) {
  ASSERT_EQ(a.status, proto::FINISHED);
  ASSERT_EQ(b.status, proto::FINISHED);
  ASSERT_EQ(static_cast<int64_t>(a.steps.size()), steps);
  ASSERT_EQ(b.steps.size(), a.steps.size());
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    ASSERT_EQ(loss_bits(a.steps[i]), loss_bits(b.steps[i])) << "step " << i;
    ASSERT_EQ(a.steps[i].param_digest(), b.steps[i].param_digest()) << "step " << i;
  }
  EXPECT_EQ(a.header.final_param_digest(), b.header.final_param_digest());
  EXPECT_EQ(a.header.model().initial_digest(), b.header.model().initial_digest());
  EXPECT_EQ(a.header.data().split_digest(), b.header.data().split_digest());
  EXPECT_EQ(a.header.config_digest(), b.header.config_digest());
  EXPECT_NE(a.header.run_id(), b.header.run_id());
  EXPECT_FALSE(a.header.final_param_digest().empty());
}

struct Repeatable {
  std::string name;
  std::string config;
  int threads;
  int64_t steps;
};
// Test names carry the case; print it instead of the struct's bytes.
inline void PrintTo(const Repeatable& c, std::ostream* os) { *os << c.name; }

class RunRepeatabilityTest : public ::testing::TestWithParam<Repeatable> {};

TEST_P(RunRepeatabilityTest, TwoFreshProcessesGiveBitwiseIdenticalRuns) {
  testing::TempDir runs;
  const auto& p = GetParam();
  const std::vector<std::string> sets = {"determinism.intra_op_threads=" + std::to_string(p.threads),
                                         "train.steps=" + std::to_string(p.steps), "record.param_digest_every=20"};
  const RunData a = run_once(p.config, runs.path().string(), sets);
  const RunData b = run_once(p.config, runs.path().string(), sets);
  expect_bitwise_identical(a, b, p.steps);
  EXPECT_EQ(a.header.determinism().intra_op_threads(), p.threads);
}

INSTANTIATE_TEST_SUITE_P(Configs, RunRepeatabilityTest,
                         ::testing::Values(Repeatable{"MlpSynthetic1Thread", "mlp_synthetic.textproto", 1, 200},
                                           Repeatable{"MlpSynthetic2Threads", "mlp_synthetic.textproto", 2, 200},
                                           Repeatable{"MlpFashion1Thread", "mlp_fashion_mnist.textproto", 1, 200},
                                           Repeatable{"MlpFashion2Threads", "mlp_fashion_mnist.textproto", 2, 200},
                                           Repeatable{"CnnFashion1Thread", "demo.textproto", 1, 200},
                                           Repeatable{"CnnFashion2Threads", "demo.textproto", 2, 200}),
                         [](const ::testing::TestParamInfo<Repeatable>& info) { return info.param.name; });

TEST(RunCliTest, AnotherSeedGivesAnotherRun) {
  testing::TempDir runs;
  const RunData a = run_once("mlp_synthetic.textproto", runs.path().string(), {"train.steps=20"});
  const RunData b = run_once("mlp_synthetic.textproto", runs.path().string(), {"train.steps=20", "seed=43"});
  EXPECT_NE(loss_bits(a.steps[0]), loss_bits(b.steps[0]));
  EXPECT_NE(a.header.model().initial_digest(), b.header.model().initial_digest());
  EXPECT_EQ(a.header.seed(), 42u);
  EXPECT_EQ(b.header.seed(), 43u);
}

TEST(RunCliTest, RecordHoldsTheResolvedConfigSeedsDataAndEnvironment) {
  testing::TempDir runs;
  const RunData r = run_once("mlp_synthetic.textproto", runs.path().string(), {"train.steps=30", "optimizer.lr=0.05"});
  const auto& h = r.header;
  EXPECT_DOUBLE_EQ(h.config().optimizer().lr(), 0.05);
  EXPECT_TRUE(h.config().train().has_eval_batch_size()) << "resolved: defaults explicit";
  EXPECT_EQ(h.origin(), "repro run");
  EXPECT_EQ(h.status(), proto::FINISHED);
  EXPECT_EQ(h.steps_completed(), 30);
  std::set<std::string> purposes;
  for (const auto& s : h.seeds()) purposes.insert(s.purpose());
  for (const char* p : {"torch.default", "data.split", "data.synthetic", "data.shuffle/epoch/0"}) {
    EXPECT_EQ(purposes.count(p), 1u) << p;
  }
  EXPECT_EQ(h.data().train_samples() + h.data().validation_samples(), 2048);
  EXPECT_FALSE(h.data().split_digest().empty());
  EXPECT_GE(h.data().epoch_order_digests_size(), 1);
  EXPECT_EQ(h.environment().threads().intra_op(), 1);
  EXPECT_FALSE(h.code().executable_xxh3().empty());
  EXPECT_GT(h.model().num_parameters(), 0);
  EXPECT_FALSE(r.steps[0].batch_digest().empty()) << "mlp_synthetic records batch digests";
  bool test_eval = false;
  for (const auto& e : h.final_evals()) test_eval = test_eval || (e.split() == "test" && e.metrics().count("accuracy"));
  EXPECT_TRUE(test_eval);
}

TEST(RunCliTest, FashionMnistRecordFingerprintsTheRealFiles) {
  testing::TempDir runs;
  const RunData r = run_once("mlp_fashion_mnist.textproto", runs.path().string(), {"train.steps=5"});
  ASSERT_EQ(r.header.data().files_size(), 4);
  for (const auto& f : r.header.data().files()) {
    EXPECT_EQ(f.size(), fs::file_size(f.path())) << f.path();
    EXPECT_EQ(f.xxh3().size(), 32u);
  }
  EXPECT_EQ(r.header.data().test_samples(), 10000);
  EXPECT_EQ(r.header.data().train_samples(), 54000);
}

// Starts a long run and waits until at least `min_steps` steps are on disk.
testing::Started start_long_run(const std::string& runs_dir, const std::string& io_dir, int64_t min_steps) {
  auto started =
      testing::start_process({testing::repro_binary(), "run", "--config", config_path("mlp_synthetic.textproto"),
                              "--runs-dir", runs_dir, "--set", "train.steps=1000000", "--set", "record.flush_every=7"},
                             {}, "", io_dir);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto runs = list_runs(runs_dir);
    if (!runs.empty() && static_cast<int64_t>(read_run(runs[0]).steps.size()) >= min_steps) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return started;
}

void expect_contiguous(const RunData& r) {
  for (std::size_t i = 0; i < r.steps.size(); ++i) ASSERT_EQ(r.steps[i].step(), static_cast<int64_t>(i));
}

TEST(RunCliTest, SigkillLeavesAReadableInterruptedRunUpToTheLastFlush) {
  testing::TempDir runs, io;
  const auto started = start_long_run(runs.path().string(), io.path().string(), 40);
  kill(started.pid, SIGKILL);
  const auto result = testing::wait_process(started);
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
  const auto dirs = list_runs(runs.path().string());
  ASSERT_EQ(dirs.size(), 1u);
  const RunData r = read_run(dirs[0]);
  EXPECT_EQ(r.status, proto::INTERRUPTED);
  EXPECT_GE(r.steps.size(), 40u);
  EXPECT_EQ(r.steps.size() % 7, 0u) << "every step up to the last flush, and no torn step";
  expect_contiguous(r);
  const auto show = run_repro({"show", dirs[0]});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("interrupted"), std::string::npos) << show.out;
}

TEST(RunCliTest, SigintRecordsInterruptedWithEveryStep) {
  testing::TempDir runs, io;
  const auto started = start_long_run(runs.path().string(), io.path().string(), 20);
  kill(started.pid, SIGINT);
  const auto result = testing::wait_process(started);
  EXPECT_EQ(result.exit_code, 128 + SIGINT);
  const auto dirs = list_runs(runs.path().string());
  ASSERT_EQ(dirs.size(), 1u);
  const RunData r = read_run(dirs[0]);
  EXPECT_EQ(r.status, proto::INTERRUPTED);
  EXPECT_NE(r.header.status_reason().find("SIGINT"), std::string::npos) << r.header.status_reason();
  EXPECT_EQ(static_cast<int64_t>(r.steps.size()), r.header.steps_completed()) << "all steps, not just flushed ones";
  expect_contiguous(r);
}

struct BadRun {
  std::string name;
  std::vector<std::string> args;  // after "run"
  std::string expected;
};
// Test names carry the case; print it instead of the struct's bytes.
inline void PrintTo(const BadRun& c, std::ostream* os) { *os << c.name; }

class RunCliBadInputTest : public ::testing::TestWithParam<BadRun> {};

TEST_P(RunCliBadInputTest, ExitsTwoNamesThePlaceAndLeavesNoRunDirectory) {
  testing::TempDir runs, tmp;
  testing::write_file(tmp / "parse.textproto", "seed: 1\ntrain {\n  steps: 1.5.2\n}\n");
  testing::write_file(tmp / "unknown.textproto", "seed: 1\nmodel { mlp { widths: 3 } }\n");
  testing::write_file(tmp / "type.textproto", "seed: \"abc\"\n");
  std::vector<std::string> args = {"run", "--runs-dir", runs.path().string()};
  for (auto a : GetParam().args) {
    if (a.rfind("TMP/", 0) == 0) a = tmp / a.substr(4);
    if (a.rfind("CFG/", 0) == 0) a = config_path(a.substr(4));
    args.push_back(a);
  }
  const auto r = run_repro(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  std::string expected = GetParam().expected;
  if (expected.rfind("TMP/", 0) == 0) expected = tmp / expected.substr(4);
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  EXPECT_TRUE(!fs::exists(runs.path()) || fs::is_empty(runs.path())) << "a run directory was left behind";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RunCliBadInputTest,
    ::testing::Values(
        BadRun{"MissingConfig", {"--config", "TMP/none.textproto"}, "TMP/none.textproto: cannot read config file"},
        BadRun{"ParseError", {"--config", "TMP/parse.textproto"}, "TMP/parse.textproto:3:"},
        BadRun{"UnknownField", {"--config", "TMP/unknown.textproto"}, "TMP/unknown.textproto:2:"},
        BadRun{"WrongType", {"--config", "TMP/type.textproto"}, "TMP/type.textproto:1:"},
        BadRun{"ZeroLr", {"--config", "CFG/mlp_synthetic.textproto", "--set", "optimizer.lr=0"}, "optimizer.lr"},
        BadRun{"ZeroBatch",
               {"--config", "CFG/mlp_synthetic.textproto", "--set", "train.batch_size=0"},
               "train.batch_size"},
        BadRun{"BadSplit",
               {"--config", "CFG/mlp_synthetic.textproto", "--set", "data.split_fraction=1.5"},
               "data.split_fraction"},
        BadRun{"ZeroSteps", {"--config", "CFG/mlp_synthetic.textproto", "--set", "train.steps=0"}, "train.steps"},
        BadRun{"MissingData",
               {"--config", "CFG/mlp_fashion_mnist.textproto", "--set", "data.path=/nonexistent"},
               "/nonexistent/train-images-idx3-ubyte.gz"},
        BadRun{"UnknownOverride",
               {"--config", "CFG/mlp_synthetic.textproto", "--set", "train.stepz=3"},
               "train has no field 'stepz'"},
        BadRun{"NoConfig", {}, "repro run:"},
        // A record keeps its text as UTF-8: a value that is not would make the run unreadable
        // (the command line is checked first: it holds the --set that put it in the config).
        BadRun{"NonUtf8Name",
               {"--config", "CFG/mlp_synthetic.textproto", "--set", "name=run\xff"},
               "run record: argv[7] is not valid UTF-8 (\"name=run\\xff\")"},
        BadRun{"NonUtf8Param",
               {"--config", "CFG/mlp_synthetic.textproto", "--set", "params.tag=\xe9t\xe9"},
               "run record: argv[7] is not valid UTF-8 (\"params.tag=\\xe9t\\xe9\")"},
        BadRun{"CheckRtolNegative",
               {"--config", "CFG/mlp_synthetic.textproto", "--set", "check.rtol=-1"},
               "check.rtol: must be a finite number >= 0 (got -1)"},
        BadRun{"CheckFromStepNegative",
               {"--config", "CFG/mlp_synthetic.textproto", "--set", "check.from_step=-1"},
               "check.from_step: must be >= 0 (got -1)"}),
    [](const ::testing::TestParamInfo<BadRun>& info) { return info.param.name; });

}  // namespace
}  // namespace repro

namespace repro {
namespace {

// A runs directory or working directory whose name is not UTF-8: refused before anything is
// written (the record could not be read back), one line naming it.
TEST(RunCliTest, NonUtf8RunsDirOrWorkingDirectoryIsRefused) {
  testing::TempDir dir;
  const std::string config = config_path("mlp_synthetic.textproto");
  const auto runs = run_repro({"run", "--config", config, "--runs-dir", dir / "runs\xff"});
  EXPECT_EQ(runs.exit_code, 2) << runs.err;
  ASSERT_EQ(runs.err_lines().size(), 1u) << runs.err;
  EXPECT_NE(runs.err.find("is not valid UTF-8"), std::string::npos) << runs.err;
  EXPECT_NE(runs.err.find("runs\\xff"), std::string::npos) << runs.err;
  EXPECT_FALSE(fs::exists(dir / "runs\xff"));

  fs::create_directories(dir / "w\xfe");
  const auto cwd = testing::run_process({testing::repro_binary(), "run", "--config", config, "--runs-dir", dir / "ok"},
                                        {}, dir / "w\xfe");
  EXPECT_EQ(cwd.exit_code, 2) << cwd.err;
  EXPECT_NE(cwd.err.find("run record: cwd is not valid UTF-8"), std::string::npos) << cwd.err;
  EXPECT_TRUE(!fs::exists(dir / "ok") || fs::is_empty(dir / "ok"));
}

// A CPU-kernel pin is read once when torch starts: `repro run` re-executes itself with it.
TEST(RunCliTest, CapabilityPinIsPutInPlaceByReexecution) {
  testing::TempDir runs;
  const RunData r = run_once("mlp_synthetic.textproto", runs.path().string(),
                             {"train.steps=5", "determinism.cpu_capability=default"});
  EXPECT_TRUE(r.header.determinism().reexecuted());
  EXPECT_EQ(r.header.determinism().cpu_capability(), "DEFAULT");
  EXPECT_EQ(r.header.environment().numerics_env().at("ATEN_CPU_CAPABILITY"), "default");
  EXPECT_EQ(r.header.environment().torch().cpu_capability(), "DEFAULT");
}

// A pin this machine cannot honour is refused with the reason, never silently ignored.
TEST(RunCliTest, CapabilityPinThatCannotBeHonouredIsRefusedOrHonoured) {
  testing::TempDir runs;
  const auto r =
      testing::run_repro({"run", "--config", config_path("mlp_synthetic.textproto"), "--runs-dir", runs.path().string(),
                          "--set", "train.steps=5", "--set", "determinism.cpu_capability=avx512"});
  if (r.exit_code == 0) {
    EXPECT_EQ(read_run(run_dir_of(r)).header.determinism().cpu_capability(), "AVX512");
  } else {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    // This CPU lacks AVX-512 (torch 1.13 would take the pin and die of SIGILL), or torch runs
    // another capability than the one pinned.
    EXPECT_THAT(r.err, ::testing::AnyOf(
                           ::testing::HasSubstr("determinism.cpu_capability: 'avx512' requested but this CPU lacks"),
                           ::testing::HasSubstr("determinism.cpu_capability: 'avx512' requested but torch runs")))
        << r.err;
  }
}

}  // namespace
}  // namespace repro
