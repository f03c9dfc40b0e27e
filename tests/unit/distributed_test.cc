// repro/distributed.h's rules in one process: the job from the environment
// (dist/rank_environment.cc), the split of an order, and the bucketed all-reduce and broadcast
// (dist/process_group.cc) over a real Gloo group of two ranks, one thread each.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "dist/process_group.h"
#include "net_testutil.h"
#include "repro/distributed.h"
#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

using testing::free_port;

const char* const kVariables[] = {"WORLD_SIZE",  "RANK",        "LOCAL_RANK",
                                  "MASTER_ADDR", "MASTER_PORT", "REPRO_DIST_TIMEOUT_S"};

// Sets the job's variables for one test and removes them after it.
class JobEnv {
 public:
  explicit JobEnv(const std::map<std::string, std::string>& values) {
    for (const char* n : kVariables) unsetenv(n);
    for (const auto& [k, v] : values) setenv(k.c_str(), v.c_str(), 1);
  }
  ~JobEnv() {
    for (const char* n : kVariables) unsetenv(n);
  }
};

// Runs `body(group)` on two ranks of one job, a thread each; rethrows a rank's failure.
void on_two_ranks(const std::function<void(internal::ProcessGroup&)>& body) {
  const int port = free_port();
  std::string failures[2];
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        RankEnvironment env;
        env.rank = rank;
        env.world_size = 2;
        env.master_port = port;
        env.timeout_s = 20;
        auto group = internal::ProcessGroup::join(env);
        body(*group);
      } catch (const std::exception& e) {
        failures[rank] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures[0], "");
  EXPECT_EQ(failures[1], "");
}

TEST(RankEnvironmentTest, NoWorldSizeIsASingleProcess) {
  JobEnv env(std::map<std::string, std::string>{{"RANK", "1"}});
  EXPECT_FALSE(rank_environment().has_value());
}

TEST(RankEnvironmentTest, ReadsTorchrunsVariables) {
  JobEnv env({{"WORLD_SIZE", "4"},
              {"RANK", "3"},
              {"LOCAL_RANK", "1"},
              {"MASTER_ADDR", "10.0.0.2"},
              {"MASTER_PORT", "29501"},
              {"REPRO_DIST_TIMEOUT_S", "2.5"}});
  const auto job = rank_environment();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->world_size, 4);
  EXPECT_EQ(job->rank, 3);
  EXPECT_EQ(job->local_rank, 1);
  EXPECT_EQ(job->master_addr, "10.0.0.2");
  EXPECT_EQ(job->master_port, 29501);
  EXPECT_EQ(job->timeout_s, 2.5);
}

TEST(RankEnvironmentTest, DefaultsLocalRankAddressAndTimeout) {
  JobEnv env({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_PORT", "29500"}});
  const auto job = rank_environment();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->local_rank, 1);
  EXPECT_EQ(job->master_addr, "127.0.0.1");
  EXPECT_EQ(job->timeout_s, kDefaultTimeoutS);
}

TEST(RankEnvironmentTest, BadValuesNameTheVariable) {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"WORLD_SIZE", "0"}, {"RANK", "0"}, {"MASTER_PORT", "1"}}, "WORLD_SIZE: '0' is not an integer in 1..65536"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_PORT", "1"}}, "RANK: '2' is not an integer in 0..1"},
      {{{"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}, "RANK: not set, but WORLD_SIZE is (2)"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "0"}}, "MASTER_PORT: not set, but WORLD_SIZE is (2)"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "70000"}},
       "MASTER_PORT: '70000' is not an integer in 1..65535"},
      {{{"WORLD_SIZE", "two"}, {"RANK", "0"}, {"MASTER_PORT", "1"}}, "WORLD_SIZE: 'two' is not an integer in 1..65536"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "1"}, {"REPRO_DIST_TIMEOUT_S", "-1"}},
       "REPRO_DIST_TIMEOUT_S: '-1' is not a number of seconds in (0, 86400]"},
  };
  for (const auto& [values, message] : cases) {
    JobEnv env(values);
    const Error e = testing::thrown_error([] { rank_environment(); });
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ShardTest, RankTakesEveryWorldSizethPositionAndTheTailIsDropped) {
  const at::Tensor order = at::tensor(std::vector<int64_t>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 42});
  const std::vector<std::vector<int64_t>> expected = {{9, 7, 5, 3, 1}, {8, 6, 4, 2, 0}};  // 42: the tail
  for (int rank = 0; rank < 2; ++rank) {
    const at::Tensor part = shard(order, rank, 2).contiguous();
    EXPECT_EQ(std::vector<int64_t>(part.data_ptr<int64_t>(), part.data_ptr<int64_t>() + part.numel()),
              expected[static_cast<std::size_t>(rank)]);
  }
  const at::Tensor third = shard(order, 2, 3).contiguous();  // 11 -> 9 positions, 3 each
  EXPECT_EQ(std::vector<int64_t>(third.data_ptr<int64_t>(), third.data_ptr<int64_t>() + 3),
            (std::vector<int64_t>{7, 4, 1}));
  EXPECT_TRUE(shard(order, 0, 1).equal(order));
  EXPECT_EQ(testing::error_message([&] { shard(order, 2, 2); }), "shard: rank 2 is not in 0..1");
}

// The gradient rule: (g0 + g1) / 2 per element, the same bits on both ranks, whatever the
// buckets (a bucket smaller than a tensor holds that tensor alone).
TEST(ProcessGroupTest, BucketedMeanIsTheSumDividedByTheWorldSize) {
  const auto values = [](int rank) {
    at::manual_seed(100 + rank);
    return std::vector<at::Tensor>{at::randn({3, 5}), at::randn({7}), at::randn({2, 2, 2})};
  };
  const auto a = values(0), b = values(1);
  std::vector<at::Tensor> results[2];
  for (const int64_t bucket : {int64_t{16}, int64_t{1} << 20}) {
    on_two_ranks([&](internal::ProcessGroup& group) {
      std::vector<at::Tensor> grads;
      for (const auto& t : group.rank() == 0 ? a : b) grads.push_back(t.clone());
      internal::all_reduce_mean_in_buckets(group, grads, bucket);
      results[group.rank()] = grads;
    });
    for (std::size_t i = 0; i < a.size(); ++i) {
      const at::Tensor expected = (a[i] + b[i]) / 2;
      EXPECT_TRUE(results[0][i].equal(expected)) << "bucket " << bucket << " tensor " << i;
      EXPECT_TRUE(results[1][i].equal(expected)) << "bucket " << bucket << " tensor " << i;
    }
  }
}

TEST(ProcessGroupTest, BroadcastGivesRankZerosTensorsOfEveryDtype) {
  std::vector<at::Tensor> results[2];
  on_two_ranks([&](internal::ProcessGroup& group) {
    const double v = group.rank() + 1;
    std::vector<at::Tensor> tensors{at::full({4}, v), at::full({2}, static_cast<int64_t>(v), at::kLong),
                                    at::full({3}, v)};
    internal::broadcast_in_buckets(group, tensors, kBucketBytes);
    results[group.rank()] = tensors;
  });
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_TRUE(results[rank][0].equal(at::full({4}, 1.0)));
    EXPECT_TRUE(results[rank][1].equal(at::full({2}, int64_t{1}, at::kLong)));
    EXPECT_TRUE(results[rank][2].equal(at::full({3}, 1.0)));
  }
}

TEST(ProcessGroupTest, AllGatherAndPublishFromRankZero) {
  std::vector<std::string> gathered[2];
  std::string published[2];
  on_two_ranks([&](internal::ProcessGroup& group) {
    gathered[group.rank()] = group.all_gather("name", "rank-" + std::to_string(group.rank()));
    published[group.rank()] = group.publish_from_rank0("dir", group.rank() == 0 ? "/runs/x" : "");
  });
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_EQ(gathered[rank], (std::vector<std::string>{"rank-0", "rank-1"}));
    EXPECT_EQ(published[rank], "/runs/x");
  }
}

}  // namespace
}  // namespace repro
