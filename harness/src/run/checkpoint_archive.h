// Private: what goes into a checkpoint's torch archive, and how it is put back.
//
// Archive keys: "repro_format" (1), "repro_step", "repro_epoch", "repro_position" (the
// CheckpointState), "repro_steps_recorded", "repro_evals_recorded", "repro_last_step" (the
// run's record counts), "repro_names" (watched tensor names) and "watched_<i>" (their values),
// "rng_cpu" (default CPU generator state), and the nested archives "optimizer" (when one was
// given) and "user" (when a save hook was given).
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "repro/checkpoint.h"

namespace torch::optim {
class Optimizer;
}

namespace repro::internal {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The run's record counts when a checkpoint was made.
struct CheckpointCounts {
  int64_t steps_recorded = 0;  // frames in steps.bin
  int64_t evals_recorded = 0;  // frames in evals.bin
  int64_t last_step = -1;      // the last recorded step index
};

// The serialized archive. `optimizer` may be null. Throws Error (internal) when torch fails.
std::string save_checkpoint_archive(const CheckpointState& state, const CheckpointCounts& counts,
                                    const NamedTensors& watched, torch::optim::Optimizer* optimizer,
                                    const CheckpointSaveHook& user);

// Reads only the position and counts (before the model exists). Throws Error (input) naming
// `path` when the archive cannot be read.
std::pair<CheckpointState, CheckpointCounts> read_checkpoint_counts(const std::string& payload,
                                                                    const std::string& path);

// Restores everything into the watched tensors (in place), the optimizer (when not null), the
// default CPU generator, and the user's hook. Throws Error (input) naming `path` when the
// archive does not match: a watched tensor missing or of another shape, an optimizer state
// missing.
CheckpointState restore_checkpoint_archive(const std::string& payload, const std::string& path,
                                           const NamedTensors& watched, torch::optim::Optimizer* optimizer,
                                           const CheckpointLoadHook& user);

}  // namespace repro::internal
