// Private: the one place that speaks c10d. A process group of the ranks of a data-parallel job
// (repro/distributed.h): the TCPStore rendezvous, ProcessGroupGloo, and the few collectives the
// Session needs. process_group.cc is the only file that includes torch/csrc/distributed (its
// headers moved between LibTorch versions); everything else sees this interface.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "repro/distributed.h"

namespace repro::internal {

class ProcessGroup {
 public:
  // Joins the job `env` describes: rank 0 serves the TCPStore, every rank connects and joins
  // Gloo. Throws Error (usage) when the store's port is taken, or when the ranks do not all
  // arrive within env.timeout_s ("rank 1 of 2 did not join within 30 s ..."); Error (internal)
  // when this build has no Gloo.
  static std::unique_ptr<ProcessGroup> join(const RankEnvironment& env);
  ~ProcessGroup();

  int rank() const;
  int world_size() const;
  // "gloo" and the Gloo version this build was compiled with ("0.5.0").
  static std::string backend();
  static std::string backend_version();

  // The collectives below throw Error (internal) naming this rank and the collective when a
  // rank stops or does not arrive within the timeout.
  // Sums `tensor` (contiguous) in place across the ranks: Gloo allreduce, SUM. One tensor per
  // call: Gloo would sum several of one call into one another too.
  void all_reduce_sum(at::Tensor& tensor);
  // Copies rank 0's values into `tensor` (contiguous) on every rank.
  void broadcast(at::Tensor& tensor);
  // Every rank's `value`, by rank (the store: "<key>/<rank>"). `key` must be used once per job.
  std::vector<std::string> all_gather(const std::string& key, const std::string& value);
  // Rank 0 publishes `value` under `key`; every other rank waits for it and returns it.
  std::string publish_from_rank0(const std::string& key, const std::string& value);

  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

 private:
  struct Impl;
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The bucket rule of repro/distributed.h: `grads` (in registration order) summed across the
// group in buckets of at most `bucket_bytes`, then divided by the world size, in place.
void all_reduce_mean_in_buckets(ProcessGroup& group, const std::vector<at::Tensor>& grads, std::int64_t bucket_bytes);
// Rank 0's values of `tensors` on every rank, in place, in the same buckets.
void broadcast_in_buckets(ProcessGroup& group, const std::vector<at::Tensor>& tensors, std::int64_t bucket_bytes);

}  // namespace repro::internal
