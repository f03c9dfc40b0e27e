// `repro trace` of data-parallel runs (repro/trace.h, "Collectives"): the job is re-executed
// with all its ranks, the chosen rank is traced, its collectives are ops of the trace, and a
// collective whose inputs are the same and whose result is not names another rank. Through the
// real binary, on a user's program (tests/e2e/programs/rank_trainer.cc) with 2 ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bounded_process.h"
#include "report_util.h"
#include "repro/record.h"
#include "repro/trace.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::last_line;
using testing::run_bounded;

testing::BoundedResult repro_bounded(const std::vector<std::string>& args, double timeout_s = 180) {
  testing::BoundedRun spec;
  spec.argv = {testing::repro_binary()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.timeout_s = timeout_s;
  return run_bounded(spec);
}

// A finished 2-rank run of the program in `mode` ("" = correct): its run directory.
std::string ranks_run(const std::string& runs, const std::string& mode) {
  std::vector<std::string> args{"run", "--runs-dir", runs, "--nproc", "2", "--", REPRO_RANK_TRAINER, runs};
  if (!mode.empty()) args.push_back(mode);
  const auto r = repro_bounded(args);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

// Run B's rank 1 read one other value at step 2. Traced on rank 0, step 2 computes the same
// until the gradient all-reduce, whose inputs are the same and whose sum is not: named as
// another rank's values. Traced on rank 1, the difference is the data itself, before any op
// computed on it.
TEST(DistributedTraceCliTest, CollectiveNamesTheOtherRankAndThatRankNamesItsInput) {
  testing::TempDir dir;
  const std::string runs = dir / "runs";
  const std::string a = ranks_run(runs, ""), b = ranks_run(runs, "rank1-data");

  const auto on0 = repro_bounded({"trace", a, b, "--json"});
  ASSERT_FALSE(on0.timed_out);
  EXPECT_EQ(on0.exit_code, 1) << on0.err;
  const proto::TraceReport r0 = testing::parse_json<proto::TraceReport>(on0);
  EXPECT_EQ(r0.step(), 2);
  EXPECT_EQ(r0.verdict(), proto::OTHER_RANK) << r0.summary();
  EXPECT_EQ(r0.op_a().name(), "c10d::allreduce");
  EXPECT_EQ(r0.op_a().phase(), proto::UPDATE);
  ASSERT_EQ(r0.op_a().inputs_size(), 1);
  EXPECT_EQ(r0.op_a().inputs(0).digest(), r0.op_b().inputs(0).digest());
  EXPECT_NE(r0.op_a().outputs(0).digest(), r0.op_b().outputs(0).digest());
  EXPECT_NE(r0.summary().find("another rank contributed other values"), std::string::npos) << r0.summary();
  EXPECT_EQ(fs::path(r0.trace_a()).filename(), "step-2.trace");
  // The ops before it, forward and backward of this rank's shard, were the same.
  EXPECT_GT(r0.op_index(), 3);

  const auto on1 = repro_bounded({"trace", a, b, "--rank", "1", "--json"});
  ASSERT_FALSE(on1.timed_out);
  EXPECT_EQ(on1.exit_code, 1) << on1.err;
  const proto::TraceReport r1 = testing::parse_json<proto::TraceReport>(on1);
  EXPECT_EQ(r1.step(), 2);
  EXPECT_EQ(r1.verdict(), proto::EXTERNAL_INPUT) << r1.summary();
  EXPECT_LT(r1.op_index(), r0.op_index());
  EXPECT_EQ(fs::path(r1.trace_a()).filename(), "step-2-rank1.trace");
  EXPECT_TRUE(fs::exists(r1.trace_b()));
}

// One run traced twice on each rank: the same ops and digests, the all-reduce and its inputs
// among them; --rank past the world size is exit 2 with one line.
TEST(DistributedTraceCliTest, EveryRankTracesAlikeAndOtherRanksAreRefused) {
  testing::TempDir dir;
  const std::string runs = dir / "runs";
  const std::string a = ranks_run(runs, "");
  for (const std::string rank : {"0", "1"}) {
    const auto r = repro_bounded({"trace", a, "--step", "1", "--rank", rank, "--json"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const proto::TraceReport report = testing::parse_json<proto::TraceReport>(r);
    EXPECT_EQ(report.verdict(), proto::SAME) << report.summary();
    const proto::Trace trace = read_trace(report.trace_a());
    int collectives = 0;
    for (const auto& op : trace.ops()) {
      if (op.name() != "c10d::allreduce") continue;
      ++collectives;
      ASSERT_EQ(op.outputs_size(), 1);
      EXPECT_EQ(op.inputs(0).shape(0), 9);                       // the Linear(8, 1)'s weight and bias, one bucket
      EXPECT_NE(op.inputs(0).digest(), op.outputs(0).digest());  // the sum is not this rank's own
    }
    EXPECT_EQ(collectives, 1) << "rank " << rank;
  }
  const auto past = repro_bounded({"trace", a, "--step", "1", "--rank", "2"});
  EXPECT_EQ(past.exit_code, 2) << past.err;
  EXPECT_NE(past.err.find("has 2 ranks (0..1)"), std::string::npos) << past.err;
  EXPECT_EQ(std::count(past.err.begin(), past.err.end(), '\n'), 1) << past.err;
}

}  // namespace
}  // namespace repro
