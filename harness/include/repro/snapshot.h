// repro/snapshot.h: model snapshots — a finished run's final weights, tied to the run that
// made them.
//
//   repro::export_snapshot("runs/20261125-...", "model.pt");   // `repro export RUN --to model.pt`
//   repro::Snapshot s = repro::load_snapshot("model.pt");       // verified
//   for (auto& [name, tensor] : s.tensors) ...                   // copy into your module
//
// File layout (the checkpoint framing of repro/checkpoint.h with its own magic):
//   magic "RPRSNAP1" | payload size, u64 LE | XXH3-128 of the payload, 32 hex | payload
// The payload is a torch::serialize archive: "repro_identity" (the SnapshotIdentity message,
// serialized, as a uint8 tensor), "repro_names" (tensor names), "tensor_<i>" (values: the
// watched parameters then buffers, in the run's order).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/Tensor.h>

#include "proto/run_record.pb.h"

namespace repro {

struct Snapshot {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  proto::SnapshotIdentity identity;
};

// Writes the final weights of the finished run in `run_dir` (its checkpoint after the last
// step) to `path`, atomically, with the run's identity. Returns the identity written.
// Throws Error (input) when the run is not finished, has no final checkpoint, or the weights
// do not match the run's final parameter digest.
proto::SnapshotIdentity export_snapshot(const std::string& run_dir, const std::string& path);

// Reads and verifies a snapshot: the file's digest, the archive's contents (only what torch's
// writer puts there reaches torch's reader, as for checkpoints), then the weights against the
// identity's param_digest. Throws Error (input) naming the file on any mismatch or a file that
// is not a snapshot.
Snapshot load_snapshot(const std::string& path);

// Whether `path` is a file that starts like a snapshot (for `repro show`).
bool is_snapshot_file(const std::string& path);

}  // namespace repro
