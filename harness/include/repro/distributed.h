// repro/distributed.h: data-parallel training on torch.distributed's engine (c10d, Gloo), as
// repeatable and as explainable as one process.
//
// A process is one rank of a data-parallel job when WORLD_SIZE is set in its environment, as
// torchrun and `repro run --nproc N` set it. Its Session (repro/session.h) then joins the
// job's process group before anything else and everything below holds; a program needs three
// changed lines more than a single-process one:
//
//   repro::Session session(config);                  // joins: RANK, WORLD_SIZE, MASTER_ADDR...
//   Net model;  session.watch(model);                 // checks every rank holds the same model
//   auto order = repro::shard(global_order, session.rank(), session.world_size());   // +
//   for (...) {
//     loss = ...;  loss.backward();
//     session.synchronize();                          // + gradients averaged, buffers from rank 0
//     optimizer.step();
//     session.record_step(step, loss);                // records the mean loss over the ranks
//   }
//
// The rules, each in exactly one place (here), are these.
//
// Joining. RANK, WORLD_SIZE, LOCAL_RANK (default RANK), MASTER_ADDR and MASTER_PORT, as
// torchrun sets them. Rank 0 serves a c10d::TCPStore on MASTER_ADDR:MASTER_PORT; every rank
// connects to it and joins a ProcessGroupGloo over it (its device bound to the address this
// host reaches MASTER_ADDR from; 127.0.0.1 for a local job). Every wait — the join, each
// collective — ends after REPRO_DIST_TIMEOUT_S seconds (default kDefaultTimeoutS) with an Error
// naming what did not arrive, so a rank that never joins is an error, not a hang: Error (usage)
// while joining (the port in use, a rank missing, another WORLD_SIZE), Error (internal) once
// joined (a rank that stopped mid-run fails the run).
//
// Seeds. Every rank uses the same master seed and derives the same seeds (repro/determinism.h),
// torch.default included: a model built after the Session starts equal on every rank, and a
// rank's dropout masks are those of rank 0 (on other samples). Randomness that should differ by
// rank comes from session.seed("rank<r>/<purpose>") — recorded like any derived seed.
//
// The initial check. watch() exchanges the parameter digests of every rank; a rank whose
// parameters differ from rank 0's (an unseeded init, a seed set by hand on one rank) is
// Error (usage) naming the rank and both digests, on every rank, before any step. Then the
// parameters and buffers are broadcast from rank 0 (what DistributedDataParallel does, so a
// collision of digests could not go unnoticed either).
//
// Sharding. One order for the whole job, from the seed as in one process (the built-in trainer:
// randperm with seed("data.shuffle/epoch/<e>")); the job steps through it in global batches of
// world_size × batch samples, and rank r takes the positions r, r + W, r + 2W... of each
// (shard()). The global batch is thus exactly the samples a single process with a batch of
// W × batch would take. An epoch's tail shorter than a global batch is dropped.
//
// Gradients (synchronize()). The watched trainable parameters, in registration order, are
// packed into buckets of at most kBucketBytes (a parameter larger than that is a bucket of its
// own; a parameter without a gradient contributes zeros and gets that gradient); each bucket is
// summed across ranks with Gloo's allreduce (SUM), then divided by the world size, then copied
// back: grad = (g_0 + g_1 + ... + g_{W-1}) / W. With the same world size and layout this gives
// the same bits every time. Buffers (BatchNorm running statistics) are then broadcast from rank
// 0, so that every rank enters the next step with rank 0's: what DDP's broadcast_buffers does
// at the next forward. DDP instead divides each gradient by W before the sum; for W a power of
// two the division is exact and both give the same bits (README, "Data-parallel runs").
//
// Records. Rank 0 records the run directory; rank r > 0 records a complete run directory of its
// own at <run dir>/ranks/<r> (steps, evaluations, checkpoints). Each step's loss is the mean of
// the ranks' losses (summed with allreduce, divided by W; the same bits on every rank); each
// rank's own loss is StepRecord.local_loss. RunRecord.distributed names the world size,
// backend, rules and every rank's host, pid and environment digest; ranks whose numerics
// environments differ from rank 0's are listed. Whenever a parameter digest is due
// (record.param_digest_every, and at finish()), the ranks' digests are compared; a rank that
// fell out of step is named with the step and the run fails on every rank.
//
// Tracing (repro/trace.h). `repro trace` re-executes a data-parallel run with all its ranks and
// traces one (--rank, default 0); the all-reduce and the broadcasts are ops of its trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace at {
class Tensor;
}

namespace repro {

inline constexpr double kDefaultTimeoutS = 30;
inline constexpr double kMaxTimeoutS = 86400;             // a day: any longer wait is a typo
inline constexpr std::int64_t kBucketBytes = 25ll << 20;  // DDP's default bucket_cap_mb

// Where this process stands in a data-parallel job, as its environment says.
struct RankEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  double timeout_s = kDefaultTimeoutS;
};

// The job this process is a rank of: nullopt when WORLD_SIZE is not set (a single process).
// Throws Error (usage) naming the variable for a value that is not a number in range (RANK
// outside 0..WORLD_SIZE-1, WORLD_SIZE < 1, MASTER_PORT outside 1..65535, a timeout <= 0), and
// for RANK or MASTER_PORT missing when WORLD_SIZE is set. MASTER_ADDR defaults to 127.0.0.1.
std::optional<RankEnvironment> rank_environment();

// Rank `rank`'s part of `global`, a 1-D tensor: global[rank], global[rank + W], ... after the
// tail that does not fill all ranks alike is dropped (each rank gets size / W elements).
// Throws Error (usage) when rank is not in 0..world_size-1.
at::Tensor shard(const at::Tensor& global, int rank, int world_size);

}  // namespace repro
