// models/module_model.h (private): the TrainableModel adapter for C++ torch::nn modules.
#pragma once

#include <torch/nn/modules/container/any.h>

#include <string>
#include <utility>

#include "models/model.h"

namespace repro::models {

// Wraps any module whose forward takes one tensor and returns the logits. Parameters and
// buffers come from the module itself (recursive, registration order), so what the trainer
// optimises and records is exactly what the module registered.
class ModuleModel : public TrainableModel {
 public:
  ModuleModel(std::string name, torch::nn::AnyModule module);

  at::Tensor forward(const at::Tensor& input) override;
  NamedTensors named_parameters() const override;
  NamedTensors named_buffers() const override;
  void train(bool on) override;
  std::string summary() const override;
  std::string name() const override { return name_; }
  std::shared_ptr<torch::nn::Module> module() const override { return module_.ptr(); }

 private:
  std::string name_;
  torch::nn::AnyModule module_;
};

}  // namespace repro::models
