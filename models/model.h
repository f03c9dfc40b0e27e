// models/model.h: the built-in models. TrainableModel and DataShape, the interface the trainer
// drives, are the harness's (run/builtins.h); this library implements them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proto/run_config.pb.h"
#include "run/builtins.h"

namespace repro::models {

// Builds the model the config names, for data of `shape`. Parameters are initialised from the
// torch default CPU generator, so seed it first. Throws Error (usage) naming the config field
// when the model cannot be built as configured (e.g. "model.cnn: needs image input [C,H,W]").
std::unique_ptr<TrainableModel> make_model(const proto::ModelConfig& config, const DataShape& shape);

// Names of the registered models, for messages and --help.
std::vector<std::string> model_names();

}  // namespace repro::models
