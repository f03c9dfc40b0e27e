// models/mlp.h (private): the "mlp" model, a multi-layer perceptron on flattened inputs.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace repro::models {

// flatten → (Linear → activation → Dropout?) per hidden width → Linear to num_classes.
// Parameters: hidden.0.weight, hidden.0.bias, …, output.weight, output.bias.
struct MlpImpl : torch::nn::Module {
  // `activation` is relu, tanh or gelu (throws Error (usage) otherwise); dropout 0 adds no
  // Dropout module.
  MlpImpl(int64_t in_features, const std::vector<int64_t>& hidden, const std::string& activation, double dropout,
          int64_t num_classes);

  torch::Tensor forward(torch::Tensor x);

  torch::nn::ModuleList hidden{nullptr};
  torch::nn::AnyModule activation;
  torch::nn::Dropout dropout{nullptr};  // null when dropout is 0
  torch::nn::Linear output{nullptr};
};
TORCH_MODULE(Mlp);

// Builds an Mlp for data of `shape` from `config` (hidden widths default to {256, 128}).
// Throws Error (usage) naming the field for a bad activation, width or dropout.
std::unique_ptr<TrainableModel> make_mlp(const proto::MlpConfig& config, const DataShape& shape);

}  // namespace repro::models
