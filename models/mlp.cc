#include "models/mlp.h"

#include <torch/torch.h>

#include "models/module_model.h"
#include "models/shape_util.h"
#include "repro/error.h"

namespace repro::models {

namespace {

torch::nn::AnyModule make_activation(const std::string& name) {
  if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  throw Error::usage("model.mlp.activation: unknown activation '" + name + "' (expected relu, tanh or gelu)");
}

}  // namespace

MlpImpl::MlpImpl(int64_t in_features, const std::vector<int64_t>& hidden_widths, const std::string& activation_name,
                 double dropout_p, int64_t num_classes)
    : torch::nn::Module("Mlp") {
  // Layers are created in forward order, so initialisation draws from the generator in the
  // order the parameters are listed.
  activation = make_activation(activation_name);
  hidden = register_module("hidden", torch::nn::ModuleList());
  int64_t width = in_features;
  for (int64_t w : hidden_widths) {
    hidden->push_back(torch::nn::Linear(width, w));
    width = w;
  }
  register_module("activation", activation.ptr());
  if (dropout_p > 0) dropout = register_module("dropout", torch::nn::Dropout(dropout_p));
  output = register_module("output", torch::nn::Linear(width, num_classes));
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  x = x.flatten(/*start_dim=*/1);
  for (const auto& layer : *hidden) {
    x = activation.forward(layer->as<torch::nn::Linear>()->forward(x));
    if (dropout) x = dropout->forward(x);
  }
  return output->forward(x);
}

std::unique_ptr<TrainableModel> make_mlp(const proto::MlpConfig& config, const DataShape& shape) {
  internal::check_shape(shape, "model.mlp");
  std::vector<int64_t> widths(config.hidden().begin(), config.hidden().end());
  if (widths.empty()) widths = {256, 128};
  for (int64_t w : widths) internal::check_positive(w, "model.mlp.hidden");
  internal::check_dropout(config.dropout(), "model.mlp.dropout");
  int64_t in_features = 1;
  for (int64_t d : shape.input_shape) in_features *= d;
  Mlp mlp(in_features, widths, config.activation(), config.dropout(), shape.num_classes);
  return std::make_unique<ModuleModel>("mlp", torch::nn::AnyModule(mlp));
}

}  // namespace repro::models
