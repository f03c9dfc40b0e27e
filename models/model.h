// models/model.h: what the built-in trainer drives. A TrainableModel wraps a torch module
// (C++ nn::Module or, later, TorchScript) behind the few calls training and recording need.
#pragma once

#include <ATen/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proto/run_config.pb.h"

namespace torch::nn {
class Module;
}

namespace repro::models {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

class TrainableModel {
 public:
  virtual ~TrainableModel() = default;
  // Logits [batch, num_classes] for a batch of inputs shaped [batch, input_shape...].
  virtual at::Tensor forward(const at::Tensor& input) = 0;
  // Parameters and buffers in a stable order (registration order, depth first), with
  // dotted names ("features.0.weight"). Buffers include BatchNorm running statistics.
  virtual NamedTensors named_parameters() const = 0;
  virtual NamedTensors named_buffers() const = 0;
  // Switches dropout and BatchNorm between training and evaluation behaviour.
  virtual void train(bool on) = 0;
  // Architecture as the module prints itself.
  virtual std::string summary() const = 0;
  // Registry name: "mlp", "cnn", "torchscript".
  virtual std::string name() const = 0;
  // The C++ module behind the model (its submodules can be walked), or null when there is none.
  virtual std::shared_ptr<torch::nn::Module> module() const { return nullptr; }
};

// Shape of the data a model is built for.
struct DataShape {
  std::vector<int64_t> input_shape;  // per sample: {1, 28, 28} for images, {F} for tables
  int64_t num_classes = 0;
};

// Builds the model the config names, for data of `shape`. Parameters are initialised from the
// torch default CPU generator, so seed it first. Throws Error (usage) naming the config field
// when the model cannot be built as configured (e.g. "model.cnn: needs image input [C,H,W]").
std::unique_ptr<TrainableModel> make_model(const proto::ModelConfig& config, const DataShape& shape);

// Names of the registered models, for messages and --help.
std::vector<std::string> model_names();

}  // namespace repro::models
