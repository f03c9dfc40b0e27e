// repro/distributed.h: the job as the environment describes it, and the split of an order.
#include <ATen/ATen.h>

#include <cstdlib>
#include <string>

#include "repro/distributed.h"
#include "repro/error.h"
#include "util/env_names.h"
#include "util/strings.h"

namespace repro {
std::optional<RankEnvironment> rank_environment() {
  const char* world = std::getenv("WORLD_SIZE");
  if (world == nullptr) return std::nullopt;
  RankEnvironment env;
  env.world_size = static_cast<int>(internal::integer_setting("WORLD_SIZE", world, 1, 1 << 16));
  const char* rank = std::getenv("RANK");
  if (rank == nullptr) throw Error::usage("RANK: not set, but WORLD_SIZE is (" + std::string(world) + ")");
  env.rank = static_cast<int>(internal::integer_setting("RANK", rank, 0, env.world_size - 1));
  const char* local = std::getenv("LOCAL_RANK");
  env.local_rank =
      local == nullptr ? env.rank : static_cast<int>(internal::integer_setting("LOCAL_RANK", local, 0, 1 << 16));
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') env.master_addr = addr;
  const char* port = std::getenv("MASTER_PORT");
  if (port == nullptr) throw Error::usage("MASTER_PORT: not set, but WORLD_SIZE is (" + std::string(world) + ")");
  env.master_port = static_cast<int>(internal::integer_setting("MASTER_PORT", port, 1, 65535));
  if (const char* t = std::getenv(internal::kEnvDistTimeout)) {
    env.timeout_s = internal::seconds_setting(internal::kEnvDistTimeout, t, kMaxTimeoutS);
  }
  return env;
}

at::Tensor shard(const at::Tensor& global, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw Error::usage("shard: rank " + std::to_string(rank) + " is not in 0.." + std::to_string(world_size - 1));
  }
  const int64_t per_rank = global.size(0) / world_size;
  return global.slice(0, rank, per_rank * world_size, world_size);
}

}  // namespace repro
