#include "models/cnn.h"

#include <torch/torch.h>

#include "models/module_model.h"
#include "models/shape_util.h"
#include "repro/error.h"

namespace repro::models {

namespace {

namespace nn = torch::nn;

void add_conv_block(nn::Sequential& seq, int64_t in_channels, int64_t out_channels) {
  seq->push_back(nn::Conv2d(nn::Conv2dOptions(in_channels, out_channels, 3).padding(1)));
  seq->push_back(nn::BatchNorm2d(out_channels));
  seq->push_back(nn::ReLU());
  seq->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
}

}  // namespace

CnnImpl::CnnImpl(const std::vector<int64_t>& input_shape, int64_t channels1, int64_t channels2, int64_t hidden,
                 double dropout, int64_t num_classes)
    : nn::Module("Cnn") {
  const int64_t channels = input_shape.at(0);
  // Each block halves height and width (MaxPool2d 2 floors).
  const int64_t flat = channels2 * (input_shape.at(1) / 4) * (input_shape.at(2) / 4);
  nn::Sequential f;
  add_conv_block(f, channels, channels1);
  add_conv_block(f, channels1, channels2);
  features = register_module("features", f);
  classifier =
      register_module("classifier", nn::Sequential(nn::Flatten(), nn::Dropout(dropout), nn::Linear(flat, hidden),
                                                   nn::ReLU(), nn::Dropout(dropout), nn::Linear(hidden, num_classes)));
}

torch::Tensor CnnImpl::forward(torch::Tensor x) { return classifier->forward(features->forward(x)); }

std::unique_ptr<TrainableModel> make_cnn(const proto::CnnConfig& config, const DataShape& shape) {
  const auto& in = shape.input_shape;
  if (in.size() != 3) {
    throw Error::usage("model.cnn: needs image input [C,H,W], data has " + internal::shape_string(in));
  }
  internal::check_shape(shape, "model.cnn");
  if (in[1] < 4 || in[2] < 4) {
    throw Error::usage("model.cnn: needs images of at least 4x4, data has " + internal::shape_string(in));
  }
  internal::check_positive(config.channels1(), "model.cnn.channels1");
  internal::check_positive(config.channels2(), "model.cnn.channels2");
  internal::check_positive(config.hidden(), "model.cnn.hidden");
  internal::check_dropout(config.dropout(), "model.cnn.dropout");
  Cnn cnn(in, config.channels1(), config.channels2(), config.hidden(), config.dropout(), shape.num_classes);
  return std::make_unique<ModuleModel>("cnn", nn::AnyModule(cnn));
}

}  // namespace repro::models
