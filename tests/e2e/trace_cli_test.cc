// `repro trace` scenarios: each runs real programs in fresh processes and asserts the named
// cause. Reports are read through --json (protobuf's JSON mapping of TraceReport).
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "proto/trace.pb.h"
#include "report_util.h"
#include "repro/trace.h"
#include "testutil.h"

namespace repro {
namespace {

using testing::last_line;
using testing::run_process;
using testing::run_repro;

// A run of tests/e2e/programs/trace_trainer.cc; returns its directory.
std::string trainer_run(const std::string& runs, const std::string& mode, const std::string& threads = "1",
                        const std::map<std::string, std::string>& env = {}) {
  const auto r = run_process({REPRO_TRACE_TRAINER, runs, mode, threads}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

std::string builtin_run(const std::string& runs, const std::vector<std::string>& sets,
                        const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> args = {"run", "--config", testing::config_path("mlp_synthetic.textproto"), "--runs-dir",
                                   runs};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  const auto r = run_repro(args, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

proto::TraceReport parse_trace(const testing::ProcessResult& r) { return testing::parse_json<proto::TraceReport>(r); }

std::vector<float> losses(const std::string& run) {
  std::vector<float> out;
  for (const auto& s : read_run(run).steps) out.push_back(s.loss_f32());
  return out;
}

// The custom op with a std::random_device perturbation is named, with identical inputs and
// different outputs, at its position in the forward pass and in its scope.
TEST(TraceCliTest, CustomOpIsTheFirstNonDeterministicOp) {
  testing::TempDir runs;
  const std::string a = trainer_run(runs.path(), "jitter"), b = trainer_run(runs.path(), "jitter");
  const auto r = run_repro({"trace", a, b, "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto report = parse_trace(r);
  EXPECT_EQ(report.step(), 0);
  EXPECT_EQ(report.verdict(), proto::NONDETERMINISTIC_OP) << report.summary();
  EXPECT_EQ(report.op_a().name(), "reprotest::jitter");
  EXPECT_EQ(report.op_a().phase(), proto::FORWARD);
  EXPECT_EQ(report.op_a().scope(), "jitter");
  EXPECT_EQ(report.differing_inputs_size(), 0);
  ASSERT_EQ(report.op_a().inputs_size(), 1);
  EXPECT_EQ(report.op_a().inputs(0).digest(), report.op_b().inputs(0).digest());
  EXPECT_NE(report.op_a().outputs(0).digest(), report.op_b().outputs(0).digest());
  EXPECT_EQ(report.op_a().outputs(0).shape(0), 16);
  EXPECT_TRUE(std::filesystem::exists(report.trace_a()));
  EXPECT_EQ(read_trace(report.trace_a()).ops(report.op_index()).name(), "reprotest::jitter");
}

// 1 vs 2 intra-op threads: the first op whose outputs differ is the big reduction (or a matmul),
// and --knobs names intra-op threads as the setting that flips the bits.
TEST(TraceCliTest, ThreadCountNamesTheReductionAndTheKnob) {
  testing::TempDir runs;
  const std::string a = trainer_run(runs.path(), "reduce", "1"), b = trainer_run(runs.path(), "reduce", "2");
  const auto r = run_repro({"trace", a, b, "--knobs", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto report = parse_trace(r);
  // Where the loss parts depends on the BLAS behind the matmuls. With OpenBLAS (the locked one)
  // a threaded GEMM already changes the loss of step 0: step 0 is traced, nothing to walk. With a
  // single-threaded BLAS only torch's reduction differs, which at step 0 changes the gradient's
  // last bit and so only the momentum buffer: the loss parts at step 1, whose entering state
  // differs, and the walk goes back to step 0.
  ASSERT_TRUE(report.requested_step() == 0 || report.requested_step() == 1) << report.requested_step();
  EXPECT_EQ(report.step(), 0);
  if (report.requested_step() == 1) {
    ASSERT_EQ(report.walk_size(), 2);
    EXPECT_EQ(report.walk(0),
              "step 1: the state entering step 1 already differs: optimizer state — the cause lies before step 1");
    EXPECT_EQ(report.walk(1), "step 0: state entering it is the same");
  } else {
    EXPECT_EQ(report.walk_size(), 0);
  }
  EXPECT_EQ(report.verdict(), proto::NONDETERMINISTIC_OP) << report.summary();
  const std::set<std::string> expected = {"aten::mean", "aten::sum",    "aten::addmm",
                                          "aten::mm",   "aten::matmul", "aten::linear"};
  EXPECT_TRUE(expected.count(report.op_a().name())) << report.op_a().name();
  EXPECT_EQ(report.differing_inputs_size(), 0);
  ASSERT_EQ(report.knobs_size(), 1);
  EXPECT_EQ(report.knobs(0).setting(), "determinism.intra_op_threads");
  EXPECT_EQ(report.knobs(0).from(), "1");
  EXPECT_EQ(report.knobs(0).to(), "2");
  EXPECT_TRUE(report.knobs(0).matches_b());
  EXPECT_TRUE(report.knobs(0).parts_from_a());
  EXPECT_NE(report.knobs_summary().find("determinism.intra_op_threads flips the bits"), std::string::npos)
      << report.knobs_summary();
}

// Different seeds: the state entering step 0 already differs (initial parameters), not an op.
TEST(TraceCliTest, SeedDifferenceIsStateEnteringStepZero) {
  testing::TempDir runs;
  const std::string a = builtin_run(runs.path(), {"train.steps=3", "seed=1"});
  const std::string b = builtin_run(runs.path(), {"train.steps=3", "seed=2"});
  const auto r = run_repro({"trace", a, b, "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto report = parse_trace(r);
  EXPECT_EQ(report.step(), 0);
  EXPECT_EQ(report.verdict(), proto::STATE_DIFFERS);
  ASSERT_GE(report.state_differences_size(), 1);
  EXPECT_EQ(report.state_differences(0).rfind("parameters (", 0), 0u) << report.state_differences(0);
  EXPECT_NE(report.summary().find("state entering step 0 already differs: parameters"), std::string::npos)
      << report.summary();
}

// Tracing never changes the numbers: a traced run (window at step 2, not stopped) has the same
// loss bits as an untraced one, for a user program and for the built-in trainer; the trace
// holds forward, backward and update ops of that step.
TEST(TraceCliTest, TracingNeverChangesTheNumbers) {
  testing::TempDir runs;
  const std::string file = (runs / "user.trace");
  const std::string plain = trainer_run(runs.path(), "plain");
  const std::string traced =
      trainer_run(runs.path(), "plain", "1", {{"REPRO_TRACE_STEP", "2"}, {"REPRO_TRACE_FILE", file}});
  EXPECT_EQ(losses(plain), losses(traced));
  EXPECT_EQ(losses(traced).size(), 6u);
  const proto::Trace trace = read_trace(file);
  EXPECT_EQ(trace.start().state().step(), 2);
  EXPECT_FALSE(trace.start().state().optimizer_digest().empty());
  EXPECT_FALSE(trace.start().state().batch_digest().empty());
  std::set<int> phases;
  for (const auto& op : trace.ops()) phases.insert(op.phase());
  EXPECT_EQ(phases, (std::set<int>{proto::FORWARD, proto::BACKWARD, proto::UPDATE}));
  EXPECT_EQ(trace.end().loss_f32(), losses(plain)[2]);

  const std::string builtin_file = (runs / "builtin.trace");
  const std::string b_plain = builtin_run(runs.path(), {"train.steps=4"});
  const std::string b_traced =
      builtin_run(runs.path(), {"train.steps=4"}, {{"REPRO_TRACE_STEP", "1"}, {"REPRO_TRACE_FILE", builtin_file}});
  EXPECT_EQ(losses(b_plain), losses(b_traced));
  EXPECT_EQ(run_repro({"compare", b_plain, b_traced}).exit_code, 0);
  EXPECT_EQ(read_trace(builtin_file).end().loss_f32(), losses(b_plain)[1]);
}

// One run traced twice gives the same op stream, digests included (outermost ops only); --dump
// prints it.
TEST(TraceCliTest, OneRunTracedTwiceIsTheSameAndDumps) {
  testing::TempDir runs;
  const std::string a = builtin_run(runs.path(), {"train.steps=3"});
  const auto r = run_repro({"trace", a, "--step", "1", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto report = parse_trace(r);
  EXPECT_EQ(report.verdict(), proto::SAME) << report.summary();
  EXPECT_GT(report.ops_a(), 20);
  const auto dump = run_repro({"trace", a, "--step", "1", "--dump"});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find(" fwd t0 aten::addmm [mlp] "), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find(" bwd "), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find(" upd "), std::string::npos) << dump.out;
}

// trace re-executes as rerun does, and takes the same three --allow flags, declared once.
TEST(TraceCliTest, TakesTheAllowFlagsOfRerun) {
  auto allow_lines = [](const std::string& help) {
    std::vector<std::string> lines;
    std::istringstream in(help);
    for (std::string line; std::getline(in, line);) {
      if (line.find("  --allow-") == 0) lines.push_back(line);
    }
    return lines;
  };
  const auto trace = run_repro({"trace", "--help"});
  const auto rerun = run_repro({"rerun", "--help"});
  ASSERT_EQ(trace.exit_code, 0);
  ASSERT_EQ(rerun.exit_code, 0);
  const auto lines = allow_lines(trace.out);
  ASSERT_EQ(lines.size(), 3u) << trace.out;
  EXPECT_EQ(lines[0].rfind("  --allow-data-change ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("  --allow-model-change ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("  --allow-changed-code ", 0), 0u) << lines[2];
  EXPECT_EQ(lines, allow_lines(rerun.out));
}

TEST(TraceCliTest, BadInputIsExitTwo) {
  testing::TempDir runs;
  const std::string a = builtin_run(runs.path(), {"train.steps=2"});
  for (const auto& args : std::vector<std::vector<std::string>>{{"trace", a, "--step", "5"},  // no such step
                                                                {"trace", a, "--dump"},       // --dump needs --step
                                                                {"trace", a},                 // one run needs --step
                                                                {"trace", a, a},  // identical records, no --step
                                                                {"trace", runs / "missing", "--step", "0"},
                                                                {"trace", a, "--step", "x"}}) {
    const auto r = run_repro(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << "\n" << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

}  // namespace
}  // namespace repro
