// What the built-in trainer builds from a config — data splits, optimizer, LR schedule, gradient
// norm — shared by the trainer (trainer.cc) and the doctor (doctor/doctor_target.cc), so both see the
// same model, data and optimizer. The steps are documented in repro/trainer.h.
#pragma once

#include <ATen/Tensor.h>
#include <ATen/core/Generator.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "proto/run_config.pb.h"
#include "run/builtins.h"

namespace torch::optim {
class Optimizer;
}

namespace repro::internal {

// A CPU generator seeded with `seed` (split and shuffle orders).
at::Generator seeded_generator(std::uint64_t seed);

struct Splits {
  at::Tensor train_x, train_y, val_x, val_y, test_x, test_y;
  at::Tensor train_idx, val_idx;  // indices into data.train, in split order
};

// Step 2 and 3 of repro/trainer.h: the seeded split, then normalisation. Throws Error (usage)
// naming data.split_fraction when a split would be empty.
Splits split_and_normalize(const models::LoadedData& data, const proto::DataConfig& config, std::uint64_t split_seed);

// The configured optimizer (sgd, adam, adamw) over `params`.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const proto::OptimizerConfig& config,
                                                        const std::vector<at::Tensor>& params);

// The lr of `step` of `total` under the configured schedule.
double scheduled_lr(const proto::OptimizerConfig& config, int64_t step, int64_t total);

// sqrt(sum over params of sum(grad^2)); parameters without a gradient count 0.
double grad_norm(const std::vector<at::Tensor>& params);

}  // namespace repro::internal
