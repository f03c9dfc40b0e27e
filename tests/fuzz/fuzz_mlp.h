// The model a checkpoint is restored into by fuzz_checkpoint and fuzz_archive: the tensors and
// optimizer of the run that made their seed corpora (an mlp 2-3-2 with SGD and momentum).
#pragma once

#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "run/checkpoint_archive.h"

namespace repro::fuzz {

struct Mlp {
  internal::NamedTensors watched;
  std::unique_ptr<torch::optim::SGD> optimizer;
  Mlp() {
    for (const auto& [name, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
             {"hidden.0.weight", {3, 2}}, {"hidden.0.bias", {3}}, {"output.weight", {2, 3}}, {"output.bias", {2}}}) {
      watched.emplace_back(name, torch::zeros(shape).requires_grad_());
    }
    std::vector<torch::Tensor> params;
    for (const auto& [name, t] : watched) params.push_back(t);
    optimizer = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(0.1).momentum(0.9));
  }
};

}  // namespace repro::fuzz
