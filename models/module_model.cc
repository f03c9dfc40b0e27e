#include "models/module_model.h"

#include <torch/torch.h>

#include <sstream>

namespace repro::models {

namespace {

template <typename Dict>
NamedTensors to_named(const Dict& dict) {
  NamedTensors out;
  out.reserve(dict.size());
  for (const auto& item : dict) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace

ModuleModel::ModuleModel(std::string name, torch::nn::AnyModule module)
    : name_(std::move(name)), module_(std::move(module)) {}

at::Tensor ModuleModel::forward(const at::Tensor& input) { return module_.forward(input); }

NamedTensors ModuleModel::named_parameters() const {
  return to_named(module_.ptr()->named_parameters(/*recurse=*/true));
}

NamedTensors ModuleModel::named_buffers() const { return to_named(module_.ptr()->named_buffers(/*recurse=*/true)); }

void ModuleModel::train(bool on) { module_.ptr()->train(on); }

std::string ModuleModel::summary() const {
  std::ostringstream s;
  s << *module_.ptr();
  return s.str();
}

}  // namespace repro::models
