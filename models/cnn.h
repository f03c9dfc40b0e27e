// models/cnn.h (private): the "cnn" model, a small two-block convolutional network for images.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>

#include "models/model.h"

namespace repro::models {

// features: 2 × (Conv2d 3x3 pad 1 → BatchNorm2d → ReLU → MaxPool2d 2), so parameters are
// features.0.* (conv), features.1.* (batch norm), features.4.*, features.5.*;
// classifier: Flatten → Dropout → Linear(hidden) → ReLU → Dropout → Linear(num_classes),
// so classifier.2.* and classifier.5.*.
struct CnnImpl : torch::nn::Module {
  // input_shape is [C, H, W] with H, W >= 4.
  CnnImpl(const std::vector<int64_t>& input_shape, int64_t channels1, int64_t channels2, int64_t hidden, double dropout,
          int64_t num_classes);

  torch::Tensor forward(torch::Tensor x);

  torch::nn::Sequential features{nullptr};
  torch::nn::Sequential classifier{nullptr};
};
TORCH_MODULE(Cnn);

// Builds a Cnn for data of `shape` from `config`. Throws Error (usage) naming the field for
// non-image input ("model.cnn: needs image input [C,H,W], data has [784]"), images smaller
// than 4x4, or non-positive sizes or a dropout outside [0, 1).
std::unique_ptr<TrainableModel> make_cnn(const proto::CnnConfig& config, const DataShape& shape);

}  // namespace repro::models
