// run/builtins.h: the built-in models and data sources, as the harness reaches them.
//
// A RunConfig names a model (model.mlp, model.cnn, model.torchscript) and a data source
// (data.source). The harness drives them only through the interface below; models/ — a library
// above the harness, which the harness never includes — implements it and registers itself with
// repro::models::register_builtins() (models/models.h). The repro tool, the test mains and the
// benchmarks register; a program that links only reprotorch::harness (a Session around a user's
// own loop) has no built-ins, and then:
//  - repro::train() and repro::doctor(config) throw Error (usage) saying that they are not linked;
//  - validate_config() does not check data.source or the data files;
//  - a Session records the data source's name but no data files (the program's own data is not
//    what the built-in source would read).
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
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

// What the built-in trainer drives: a torch module (C++ nn::Module or TorchScript) behind the
// few calls training and recording need.
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

// A data set, loaded whole into memory as tensors.
struct Dataset {
  // float32, or uint8 for images (fashion-mnist: 4x less memory until the split converts what
  // it keeps), [N, input_shape...], raw values (not yet normalised)
  at::Tensor features;
  at::Tensor labels;  // int64 [N], in [0, num_classes)
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct DataFile {
  std::string role;  // "train-images", "train-labels", "test-images", "test-labels", "csv"
  std::string path;
};

struct LoadedData {
  Dataset train;  // the whole training set; the trainer carves validation from it
  Dataset test;   // the official test set (fashion-mnist), a held-out set (synthetic), or empty (csv)
  std::vector<int64_t> input_shape;  // per sample
  int64_t num_classes = 0;
  std::vector<DataFile> files;  // every file read, for the record's data fingerprint
};

// The entry points models/ registers; models/model.h and models/data/dataset.h document each.
struct Builtins {
  std::unique_ptr<TrainableModel> (*make_model)(const proto::ModelConfig& config, const DataShape& shape);
  std::vector<DataFile> (*data_files)(const proto::DataConfig& config);
  LoadedData (*load_data)(const proto::DataConfig& config, uint64_t seed);
  std::vector<std::string> (*data_source_names)();
};

}  // namespace repro::models

namespace repro::internal {

// Registers the built-ins; a second call replaces the first. Not thread-safe against
// concurrent lookups: call it before any run starts (models::register_builtins does).
void set_builtins(const models::Builtins& builtins);

// Forgets the registered built-ins (a test seam: the program then behaves as one that does not
// link models/).
void clear_builtins();

// The registered built-ins, or null when none are linked.
const models::Builtins* find_builtins();

// The registered built-ins. Throws Error (usage) naming `what` needs them when none are linked.
const models::Builtins& builtins(const std::string& what);

}  // namespace repro::internal
