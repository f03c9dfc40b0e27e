// Differences in how two runs were laid out over ranks (RunRecord.distributed,
// repro/distributed.h). A single process reads as world size 1. Everything that decides which
// samples a rank sees and how gradients are summed can change the bits; where rank 0 served
// the store and how many machines there were cannot.
#include <string>

#include "compare/compare_differences.h"
#include "util/strings.h"

namespace repro::internal {

void add_distributed_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out) {
  const auto& da = a.distributed();
  const auto& db = b.distributed();
  const auto world = [](const proto::RunRecord& r) {
    return std::to_string(r.has_distributed() ? r.distributed().world_size() : 1);
  };
  out.add("distributed", "distributed.world_size", world(a), world(b), true, "world size",
          "each step averages the gradients of another number of ranks, each loss over its own share of the batch");
  if (!a.has_distributed() || !b.has_distributed()) return;
  out.add("distributed", "distributed.backend", da.backend() + " " + da.backend_version(),
          db.backend() + " " + db.backend_version(), true, "collective backend", "another all-reduce implementation");
  out.add("distributed", "distributed.sharding", da.sharding(), db.sharding(), true, "sharding rule",
          "the ranks see other samples");
  out.add("distributed", "distributed.reduction", da.reduction(), db.reduction(), true, "gradient reduction",
          "gradients are summed in another order");
  out.add("distributed", "distributed.bucket_bytes", std::to_string(da.bucket_bytes()),
          std::to_string(db.bucket_bytes()), true, "all-reduce bucket size",
          "the ring sums other chunks in another order");
  for (int r = 0; r < da.ranks_size() && r < db.ranks_size(); ++r) {
    out.add("distributed", "distributed.ranks[" + std::to_string(r) + "].environment_digest",
            da.ranks(r).environment_digest(), db.ranks(r).environment_digest(), true,
            "rank " + std::to_string(r) + "'s numerics environment", "");
  }
  out.add("distributed", "distributed.environment_mismatches", join(da.environment_mismatches(), "; "),
          join(db.environment_mismatches(), "; "), true, "ranks computing in other environments", "");
  out.add("distributed", "distributed.master_addr", da.master_addr() + ":" + std::to_string(da.master_port()),
          db.master_addr() + ":" + std::to_string(db.master_port()), false, "store address", "");
}

}  // namespace repro::internal
