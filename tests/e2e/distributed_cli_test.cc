// Data-parallel runs (repro/distributed.h) through the real binary: `repro run --nproc 2` of the
// built-in trainer on Fashion-MNIST and of a user's program (tests/e2e/programs/rank_trainer.cc),
// each rank a fresh process joined over c10d's TCPStore and Gloo on 127.0.0.1.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bounded_process.h"
#include "net_testutil.h"
#include "report_util.h"
#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::free_port;
using testing::last_line;
using testing::Listener;
using testing::parse_report;
using testing::run_bounded;
using testing::run_repro;

// A short MLP run: 24 steps, no evaluations, a parameter digest (and the cross-rank check)
// every 4 steps.
std::vector<std::string> mlp_run(const std::string& runs, const std::vector<std::string>& more) {
  std::vector<std::string> args{"run",
                                "--config",
                                testing::config_path("mlp_fashion_mnist.textproto"),
                                "--runs-dir",
                                runs,
                                "--set",
                                "train.steps=24",
                                "--set",
                                "train.eval_every=0",
                                "--set",
                                "train.final_eval=false",
                                "--set",
                                "record.param_digest_every=4"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

testing::BoundedResult repro_bounded(const std::vector<std::string>& args, double timeout_s = 120,
                                     const std::map<std::string, std::string>& env = {}) {
  testing::BoundedRun spec;
  spec.argv = {testing::repro_binary()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  spec.timeout_s = timeout_s;
  return run_bounded(spec);
}

// A run that must finish: its directory (the last line of stdout).
std::string finished_run(const std::vector<std::string>& args) {
  const auto r = repro_bounded(args);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

std::uint32_t loss_bits(const proto::StepRecord& s) {
  const float v = s.loss_f32();
  std::uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

const proto::Difference* find_field(const proto::ComparisonReport& report, const std::string& field) {
  for (const auto& d : report.differences()) {
    if (d.field() == field) return &d;
  }
  return nullptr;
}

TEST(DistributedCliTest, TwoRanksRecordTheMeanLossAndRepeatBitwise) {
  testing::TempDir dir;
  const std::string a = finished_run(mlp_run(dir / "runs", {"--nproc", "2"}));
  const RunData rank0 = read_run(a);
  const RunData rank1 = read_run(a + "/ranks/1");
  ASSERT_TRUE(rank0.header.has_distributed());
  const auto& d = rank0.header.distributed();
  EXPECT_EQ(d.world_size(), 2);
  EXPECT_EQ(d.rank(), 0);
  EXPECT_EQ(rank1.header.distributed().rank(), 1);
  EXPECT_EQ(rank0.header.run_id(), fs::path(a).filename().string()) << "the id names the directory";
  EXPECT_EQ(rank1.header.run_id(), rank0.header.run_id() + ".rank1");
  EXPECT_EQ(d.backend(), "gloo");
  EXPECT_EQ(d.sharding(), "strided");
  ASSERT_EQ(d.ranks_size(), 2);
  EXPECT_EQ(d.ranks(0).environment_digest(), d.ranks(1).environment_digest());
  EXPECT_EQ(d.environment_mismatches_size(), 0);
  EXPECT_NE(d.ranks(0).pid(), d.ranks(1).pid());
  ASSERT_EQ(rank0.steps.size(), 24u);
  ASSERT_EQ(rank1.steps.size(), 24u);
  bool local_losses_differ = false;
  for (std::size_t i = 0; i < rank0.steps.size(); ++i) {
    const auto& s0 = rank0.steps[i];
    const auto& s1 = rank1.steps[i];
    // The recorded loss is the mean over the ranks: the same bits on both, (l0 + l1) / 2.
    EXPECT_EQ(loss_bits(s0), loss_bits(s1)) << "step " << i;
    EXPECT_EQ(s0.local_loss().name(), "rank0/loss");
    EXPECT_EQ(s1.local_loss().name(), "rank1/loss");
    const float mean = (s0.local_loss().f32() + s1.local_loss().f32()) / 2.0f;
    EXPECT_EQ(s0.loss_f32(), mean) << "step " << i;
    local_losses_differ |= s0.local_loss().f32() != s1.local_loss().f32();
    EXPECT_EQ(s0.param_digest(), s1.param_digest()) << "step " << i;
  }
  EXPECT_TRUE(local_losses_differ) << "each rank trains on its own share of the batch";
  EXPECT_EQ(rank0.header.final_param_digest(), rank1.header.final_param_digest());
  EXPECT_EQ(rank0.header.status(), proto::FINISHED);

  // Rank 0 shows the progress, with the recorded (mean) loss; rank 1 only its own directory (it
  // would repeat the lines). The second run has the first's bits (compared below).
  const auto second = repro_bounded(mlp_run(dir / "runs", {"--nproc", "2"}));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string b = last_line(second.out);
  char mean_loss[48], local_loss[48];
  std::snprintf(mean_loss, sizeof mean_loss, "loss %.4f  ", double{rank0.steps.back().loss_f32()});
  std::snprintf(local_loss, sizeof local_loss, "loss %.4f  ", double{rank0.steps.back().local_loss().f32()});
  ASSERT_STRNE(mean_loss, local_loss) << "the last step tells the mean from rank 0's own loss";
  bool rank0_progress = false;
  for (const auto& line : second.err_lines()) {
    if (line.rfind("[rank 1] ", 0) == 0) {
      EXPECT_EQ(line, "[rank 1] " + b + "/ranks/1") << second.err;
    }
    rank0_progress |= line.find("[rank 0]") != std::string::npos && line.find("step 24/24") != std::string::npos &&
                      line.find(mean_loss) != std::string::npos;
  }
  EXPECT_TRUE(rank0_progress) << second.err;
  const auto report = parse_report(run_repro({"compare", a, b, "--json"}));
  EXPECT_EQ(report.verdict(), proto::IDENTICAL) << report.summary();
  EXPECT_EQ(read_run(b).header.final_param_digest(), rank0.header.final_param_digest());

  // `repro rerun` relaunches the recorded world size.
  const auto rerun = repro_bounded({"rerun", a, "--json"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  const auto rerun_report = parse_report(rerun);
  EXPECT_EQ(rerun_report.verdict(), proto::IDENTICAL) << rerun_report.summary();
  EXPECT_EQ(read_run(rerun_report.run_b()).header.distributed().world_size(), 2);
}

// The CNN has dropout (each rank draws its masks from the same seeds, on other samples) and
// BatchNorm (running statistics computed on each rank's own batch, then rank 0's broadcast by
// synchronize()): every rank still holds the same parameters and buffers at every step.
TEST(DistributedCliTest, CnnWithDropoutAndBatchNormRepeatsBitwiseOnTwoRanks) {
  testing::TempDir dir;
  const std::string config = dir / "cnn.textproto";
  testing::write_file(config,
                      "name: \"cnn-2ranks\"\nseed: 3\n"
                      "determinism { intra_op_threads: 1 inter_op_threads: 1 }\n"
                      "model { cnn { channels1: 8 channels2: 16 hidden: 32 dropout: 0.25 } }\n"
                      "data { source: \"fashion-mnist\" path: \"/usr/share/datasets/fashion-mnist\" "
                      "split_fraction: 0.9 }\n"
                      "optimizer { name: \"adam\" lr: 0.001 }\n"
                      "train { steps: 6 batch_size: 16 eval_every: 0 final_eval: false }\n"
                      "record { flush_every: 2 param_digest_every: 1 }\n");
  const std::vector<std::string> args{"run", "--config", config, "--runs-dir", dir / "runs", "--nproc", "2"};
  const std::string a = finished_run(args), b = finished_run(args);
  const RunData r0 = read_run(a), r1 = read_run(a + "/ranks/1");
  ASSERT_EQ(r0.steps.size(), 6u);
  ASSERT_EQ(r1.steps.size(), 6u);
  for (std::size_t i = 0; i < r0.steps.size(); ++i) {
    EXPECT_EQ(r0.steps[i].param_digest(), r1.steps[i].param_digest()) << "step " << i << ": buffers included";
  }
  EXPECT_EQ(r0.header.final_param_digest(), r1.header.final_param_digest());
  EXPECT_EQ(parse_report(run_repro({"compare", a, b, "--json"})).verdict(), proto::IDENTICAL);
  const auto rerun = repro_bounded({"rerun", a, "--json"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(parse_report(rerun).verdict(), proto::IDENTICAL);
}

TEST(DistributedCliTest, OneRankWithTwiceTheBatchIsNamedAsAnotherWorldSize) {
  testing::TempDir dir;
  const std::string one = finished_run(mlp_run(dir / "runs", {"--set", "train.batch_size=64"}));
  const std::string two = finished_run(mlp_run(dir / "runs", {"--nproc", "2", "--set", "train.batch_size=32"}));
  const auto r = run_repro({"compare", one, two, "--json"});
  const auto report = parse_report(r);
  const auto* world = find_field(report, "distributed.world_size");
  ASSERT_NE(world, nullptr) << report.DebugString();
  EXPECT_EQ(world->a(), "1");
  EXPECT_EQ(world->b(), "2");
  EXPECT_TRUE(world->affects_numerics());
  // The same global order, so the same samples per step: only the reduction differs.
  EXPECT_EQ(find_field(report, "data.epoch_order_digests[0]"), nullptr);
  EXPECT_NE(report.summary().find("distributed.world_size 1 vs 2"), std::string::npos) << report.summary();
}

TEST(DistributedCliTest, UserProgramRanksRepeatBitwise) {
  testing::TempDir dir;
  const auto run = [&] {
    return finished_run({"run", "--runs-dir", dir / "runs", "--nproc", "2", "--", REPRO_RANK_TRAINER, dir / "runs"});
  };
  const std::string a = run(), b = run();
  const RunData ra = read_run(a);
  ASSERT_EQ(ra.steps.size(), 8u);
  EXPECT_EQ(ra.header.distributed().world_size(), 2);
  EXPECT_EQ(parse_report(run_repro({"compare", a, b, "--json"})).verdict(), proto::IDENTICAL);
}

TEST(DistributedCliTest, RankSeededByHandIsNamedBeforeTheFirstStep) {
  testing::TempDir dir;
  const auto r = repro_bounded(
      {"run", "--runs-dir", dir / "runs", "--nproc", "2", "--", REPRO_RANK_TRAINER, dir / "runs", "own-seed"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("before the first step (model linear): the parameters of rank 1"), std::string::npos) << r.err;
  const RunData run = read_run(last_line(r.out));
  EXPECT_EQ(run.header.status(), proto::FAILED);
  EXPECT_NE(run.header.status_reason().find("rank 1"), std::string::npos) << run.header.status_reason();
  EXPECT_TRUE(run.steps.empty());
}

TEST(DistributedCliTest, RankOutOfStepIsNamedWithTheStep) {
  testing::TempDir dir;
  const auto r = repro_bounded(
      {"run", "--runs-dir", dir / "runs", "--nproc", "2", "--", REPRO_RANK_TRAINER, dir / "runs", "corrupt"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0);
  const RunData run = read_run(last_line(r.out));
  EXPECT_EQ(run.header.status(), proto::FAILED);
  EXPECT_EQ(run.header.status_reason().rfind("step 3: the parameters of rank 1", 0), 0u) << run.header.status_reason();
  EXPECT_EQ(run.steps.size(), 4u);  // steps 0..3, the last with the digests that disagree
}

TEST(DistributedCliTest, KilledRankEndsTheJobNamingItAndResumesBitwise) {
  testing::TempDir dir;
  const std::string runs = dir / "runs";
  const std::vector<std::string> longer{"--nproc", "2",
                                        "--set",   "train.steps=1000",
                                        "--set",   "train.checkpoint_every=100",
                                        "--set",   "record.flush_every=10"};
  const auto args = mlp_run(runs, longer);
  std::vector<std::string> argv{testing::repro_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::TempDir io;
  const auto started = testing::start_process(argv, {}, "", io.path().string());
  // Rank 1's record names its pid; kill it once it is past two checkpoints.
  int64_t pid = 0;
  std::string run;
  for (int i = 0; i < 1200 && pid == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(runs)) continue;
    for (const auto& e : fs::directory_iterator(runs)) {
      const fs::path rank1 = e.path() / "ranks/1";
      if (!fs::exists(rank1 / "record.pb") || !fs::exists(rank1 / "steps.bin")) continue;
      const RunData r = read_run(rank1.string());
      if (r.steps.size() >= 250) {
        pid = r.header.pid();
        run = e.path().string();
      }
    }
  }
  ASSERT_GT(pid, 0) << testing::read_file(started.err_path);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(static_cast<pid_t>(pid), SIGKILL), 0);
  const auto r = testing::wait_process(started);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  EXPECT_LT(seconds, 15) << "the launcher must not wait for the other rank's timeout";
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("repro run: rank 1 was killed by signal 9 (SIGKILL)"), std::string::npos) << r.err;
  ASSERT_LT(read_run(run + "/ranks/1").steps.size(), 1000u);

  const auto resumed = repro_bounded({"resume", run});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::string uninterrupted = finished_run(mlp_run(runs, longer));
  const auto report = parse_report(run_repro({"compare", run, uninterrupted, "--json"}));
  EXPECT_EQ(report.verdict(), proto::IDENTICAL) << report.summary();
  EXPECT_EQ(read_run(run + "/ranks/1").header.final_param_digest(),
            read_run(uninterrupted + "/ranks/1").header.final_param_digest());
  EXPECT_EQ(read_run(run).header.resumes_size(), 1);
}

TEST(DistributedCliTest, TwoLaunchersAsTwoNodesGiveTheBitsOfOneLauncher) {
  testing::TempDir dir;
  const std::string port = std::to_string(free_port());
  const std::vector<std::string> node{"--nproc",       "1",         "--nnodes",      "2",
                                      "--master-addr", "127.0.0.1", "--master-port", port};
  auto node1 = mlp_run(dir / "node1", node);
  node1.insert(node1.end(), {"--node-rank", "1"});
  std::vector<std::string> argv{testing::repro_binary()};
  argv.insert(argv.end(), node1.begin(), node1.end());
  testing::TempDir io;
  const auto second = testing::start_process(argv, {}, "", io.path().string());
  auto node0 = mlp_run(dir / "runs", node);
  node0.insert(node0.end(), {"--node-rank", "0"});
  const std::string two_nodes = finished_run(node0);
  const auto r1 = testing::wait_process(second);
  EXPECT_EQ(r1.exit_code, 0) << r1.err;
  EXPECT_EQ(r1.out, "") << "node 0 prints the run directory";
  EXPECT_NE(r1.err.find("repro run: the ranks of this node finished; node 0 records the run"), std::string::npos)
      << r1.err;
  EXPECT_FALSE(fs::exists(dir / "node1")) << "node 1's launcher leaves no runs directory";
  const std::string one_node = finished_run(mlp_run(dir / "runs", {"--nproc", "2"}));
  const auto report = parse_report(run_repro({"compare", two_nodes, one_node, "--json"}));
  EXPECT_EQ(report.verdict(), proto::IDENTICAL) << report.summary();
  EXPECT_EQ(read_run(two_nodes + "/ranks/1").steps.size(), 24u);
}

TEST(DistributedCliTest, PortInUseIsExitTwoAndLeavesNothing) {
  testing::TempDir dir;
  Listener taken;
  const auto r = repro_bounded(
      mlp_run(dir / "runs", {"--nproc", "2", "--master-port", std::to_string(taken.port), "--dist-timeout", "5"}), 60);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const auto lines = r.err_lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("MASTER_PORT " + std::to_string(taken.port) + ": the port is in use"), std::string::npos)
      << r.err;
  for (const auto& line : lines) {  // c10d's own warnings of each failed bind are held back
    EXPECT_EQ(line.find("c10d"), std::string::npos) << r.err;
    EXPECT_EQ(line.find("Logging before InitGoogleLogging"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir / "runs")) << "nothing recorded, nothing left";
}

// A rank started torchrun-style, its timeout from --dist-timeout: it waits that long once (not
// once in TCPStore and again in the handshake), then names the rank that is missing.
TEST(DistributedCliTest, RankThatNeverJoinsIsATimeoutNamingIt) {
  testing::TempDir dir;
  const auto started = std::chrono::steady_clock::now();
  const auto r = repro_bounded(
      mlp_run(dir / "runs", {"--dist-timeout", "4"}), 60,
      {{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", std::to_string(free_port())}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_GE(seconds, 4);
  EXPECT_LT(seconds, 8) << "waited twice";
  EXPECT_NE(last_line(r.err).find("within 4 s: rank 1 did not arrive"), std::string::npos) << r.err;
  EXPECT_NE(last_line(r.err).find("not every rank joined"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

// Not a job and not a rank: the flag would change nothing, so it is refused rather than ignored.
TEST(DistributedCliTest, DistTimeoutOutsideAJobIsRefused) {
  testing::TempDir dir;
  const auto r = repro_bounded(mlp_run(dir / "runs", {"--dist-timeout", "4"}), 60);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(last_line(r.err).find("--dist-timeout: only for a data-parallel job"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

// The flag's range is the variable's (repro/distributed.h), named by the flag the user typed,
// for a launch and for a rank started torchrun-style alike; no rank starts.
TEST(DistributedCliTest, DistTimeoutOutOfRangeIsNamedByTheFlag) {
  testing::TempDir dir;
  for (const std::string seconds : {"0", "-2", "86401", "nan"}) {
    const auto r = repro_bounded(mlp_run(dir / "runs", {"--nproc", "2", "--dist-timeout=" + seconds}), 60);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "repro: --dist-timeout: '" + seconds + "' is not a number of seconds in (0, 86400]\n");
  }
  const auto r = repro_bounded(mlp_run(dir / "runs", {"--dist-timeout", "0"}), 60,
                               {{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_PORT", "29999"}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "repro: --dist-timeout: '0' is not a number of seconds in (0, 86400]\n");
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(DistributedCliTest, RanksStartedWithOtherWorldSizesAreNamed) {
  testing::TempDir dir;
  const std::string port = std::to_string(free_port());
  auto args = mlp_run(dir / "runs", {});
  std::vector<std::string> argv{testing::repro_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::TempDir io;
  const auto rank0 = testing::start_process(
      argv, {{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", port}, {"REPRO_DIST_TIMEOUT_S", "10"}}, "",
      io.path().string());
  const auto rank1 = repro_bounded(
      args, 60, {{"WORLD_SIZE", "3"}, {"RANK", "1"}, {"MASTER_PORT", port}, {"REPRO_DIST_TIMEOUT_S", "10"}});
  const auto r0 = testing::wait_process(rank0);
  EXPECT_EQ(rank1.exit_code, 2) << rank1.err;
  EXPECT_NE(last_line(rank1.err).find("WORLD_SIZE: rank 1 was started with 3 ranks but rank 0 with 2"),
            std::string::npos)
      << rank1.err;
  EXPECT_EQ(r0.exit_code, 2) << r0.err;
  EXPECT_NE(last_line(r0.err).find("WORLD_SIZE: rank 0 was started with 2 ranks but rank 1 with 3"), std::string::npos)
      << r0.err;
}

}  // namespace
}  // namespace repro
