// A Session that is one rank of a data-parallel job (repro/distributed.h): joining, the job's
// description in the record, where each rank records, the agreement checks, the mean loss and
// synchronize(). Every rule is stated once, in repro/distributed.h.
#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "dist/process_group.h"
#include "env/environment_diff.h"
#include "repro/digest.h"
#include "repro/distributed.h"
#include "repro/error.h"
#include "repro/session.h"
#include "session/session_impl.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// XXH3-128 over the numerics-relevant facts of `env`, one line each (environment_diff.h's rule).
std::string numerics_digest(const proto::Environment& env) {
  Hasher h;
  for (const auto& line : internal::numerics_differences(proto::Environment{}, env))
    h.update(line.data(), line.size() + 1);
  return h.hex_digest();
}

}  // namespace

void Session::Impl::join_job() {
  if (const auto env = rank_environment()) {
    group = internal::ProcessGroup::join(*env);
    spdlog::debug("rank {} of {} joined via {}:{}", env->rank, env->world_size, env->master_addr, env->master_port);
  }
}

void Session::Impl::describe_job(const proto::Environment& env) {
  if (!group) return;
  const auto rank_env = rank_environment();
  proto::RankInfo mine;
  mine.set_rank(group->rank());
  mine.set_local_rank(rank_env ? rank_env->local_rank : group->rank());
  mine.set_hostname(header.hostname());
  mine.set_pid(getpid());
  mine.set_environment_digest(numerics_digest(env));
  const auto infos = group->all_gather("rank_info", mine.SerializeAsString());
  const auto envs = group->all_gather("environment", env.SerializeAsString());
  auto* d = header.mutable_distributed();
  d->set_world_size(group->world_size());
  d->set_rank(group->rank());
  d->set_backend(internal::ProcessGroup::backend());
  d->set_backend_version(internal::ProcessGroup::backend_version());
  d->set_sharding("strided");
  d->set_reduction("buckets in registration order, sum, then divide by the world size");
  d->set_bucket_bytes(kBucketBytes);
  if (rank_env) {
    d->set_master_addr(rank_env->master_addr);
    d->set_master_port(rank_env->master_port);
  }
  proto::Environment rank0;
  rank0.ParseFromString(envs.front());
  for (std::size_t r = 0; r < infos.size(); ++r) {
    if (!d->add_ranks()->ParseFromString(infos[r]))
      throw Error::internal("rank " + std::to_string(r) + ": a garbled rank record");
    if (r == 0) continue;
    proto::Environment theirs;
    theirs.ParseFromString(envs[r]);
    for (const auto& line : internal::numerics_differences(rank0, theirs)) {
      d->add_environment_mismatches("rank " + std::to_string(r) + ": " + line);
    }
  }
  if (group->rank() == 0 && d->environment_mismatches_size() > 0) {
    spdlog::warn("the ranks compute in other environments ({} differences; the first: {}): their bits may differ",
                 d->environment_mismatches_size(), d->environment_mismatches(0));
  }
}

std::string Session::Impl::rank_run_dir(const std::string& dir) {
  if (!group || group->rank() == 0) return dir;
  const std::string job = group->publish_from_rank0("run_dir", "");
  const std::string rank = std::to_string(group->rank());
  header.set_run_id(group->publish_from_rank0("run_id", "") + ".rank" + rank);
  return job + "/ranks/" + rank;
}

void Session::Impl::job_dir_created() {
  if (!group || group->rank() != 0) return;
  std::error_code ec;
  const fs::path absolute = fs::absolute(writer->dir(), ec);
  group->publish_from_rank0("run_dir", ec ? writer->dir() : absolute.lexically_normal().string());
  group->publish_from_rank0("run_id", header.run_id());  // rank_run_dir reads both, in this order
}

void Session::Impl::check_ranks_agree(const std::string& digest, const std::string& when) {
  if (!group) return;
  const auto digests = group->all_gather("param_digest", digest);
  std::string differing;
  for (std::size_t r = 1; r < digests.size(); ++r) {
    if (digests[r] == digests[0]) continue;
    differing += (differing.empty() ? "rank " : ", rank ") + std::to_string(r) + " (" + digests[r] + ")";
  }
  if (differing.empty()) return;
  throw Error::internal(when + ": the parameters of " + differing + " differ from rank 0's (" + digests[0] +
                        "): a rank drew from its own random numbers or skipped synchronize(); build the model "
                        "after the Session, from the same seeds, on every rank (repro/distributed.h)");
}

void Session::Impl::broadcast_watched() {
  if (!group) return;
  std::vector<at::Tensor> tensors;
  for (const auto& [name, t] : watched) tensors.push_back(t);
  internal::broadcast_in_buckets(*group, tensors, kBucketBytes);
}

std::pair<int64_t, int64_t> Session::Impl::agree_on_step(int64_t step) {
  const auto steps = group->all_gather("resume_step", std::to_string(step));
  int64_t least = step, greatest = step;
  for (const auto& s : steps) {
    least = std::min<int64_t>(least, std::stoll(s));
    greatest = std::max<int64_t>(greatest, std::stoll(s));
  }
  return {least, greatest};
}

at::Tensor Session::Impl::mean_over_ranks(const at::Tensor& value) {
  at::Tensor t = value.detach().reshape({1}).clone();
  group->all_reduce_sum(t);
  t.div_(group->world_size());
  return t.reshape({});
}

void Session::synchronize() {
  auto& s = *impl_;
  if (!s.group) return;
  std::vector<at::Tensor> grads, buffers;
  for (const auto& m : s.models) {
    for (int i = 0; i < m.identity.tensors_size(); ++i) {
      const auto& info = m.identity.tensors(i);
      const at::Tensor& t = m.tensors[static_cast<std::size_t>(i)].second;
      if (!info.parameter()) {
        buffers.push_back(t);
      } else if (info.trainable()) {
        if (!t.grad().defined()) t.mutable_grad() = at::zeros_like(t);
        grads.push_back(t.grad());
      }
    }
  }
  internal::all_reduce_mean_in_buckets(*s.group, grads, kBucketBytes);
  internal::broadcast_in_buckets(*s.group, buffers, kBucketBytes);
}

int Session::rank() const { return impl_->group ? impl_->group->rank() : 0; }
int Session::world_size() const { return impl_->group ? impl_->group->world_size() : 1; }

}  // namespace repro
