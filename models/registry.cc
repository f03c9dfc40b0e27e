// make_model: the one place that maps a ModelConfig to a model builder; register_builtins hands
// the models and data sources to the harness (run/builtins.h).
#include <torch/torch.h>

#include "models/cnn.h"
#include "models/data/dataset.h"
#include "models/mlp.h"
#include "models/model.h"
#include "models/models.h"
#include "models/torchscript.h"
#include "repro/error.h"

namespace repro::models {

std::unique_ptr<TrainableModel> make_model(const proto::ModelConfig& config, const DataShape& shape) {
  switch (config.kind_case()) {
    case proto::ModelConfig::kMlp:
      return make_mlp(config.mlp(), shape);
    case proto::ModelConfig::kCnn:
      return make_cnn(config.cnn(), shape);
    case proto::ModelConfig::kTorchscript:
      return make_torchscript(config.torchscript(), shape);
    case proto::ModelConfig::KIND_NOT_SET:
      break;
  }
  throw Error::usage("model: no model chosen (expected one of mlp, cnn, torchscript)");
}

std::vector<std::string> model_names() { return {"mlp", "cnn", "torchscript"}; }

void register_builtins() { repro::internal::set_builtins({&make_model, &data_files, &load_data, &data_source_names}); }

}  // namespace repro::models
