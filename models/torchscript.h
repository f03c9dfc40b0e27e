// models/torchscript.h (private): the TrainableModel for a TorchScript file (torch.jit.save /
// torch::jit::Module::save), loaded with torch::jit::load onto the CPU.
#pragma once

#include <memory>

#include "models/model.h"

namespace repro::models {

// Loads config.path. The module's forward must take one tensor [batch, input_shape...] and
// return logits [batch, num_classes]; its parameters (requires_grad as saved) are what the
// optimizer trains, its buffers (BatchNorm running statistics, num_batches_tracked) are
// watched and digested with them, and train(bool) switches the module and all submodules.
// Throws Error (usage) for an empty path, Error (input) naming the file when it is missing or
// not a TorchScript archive, or when its forward returns anything but such logits (on the
// first forward).
std::unique_ptr<TrainableModel> make_torchscript(const proto::TorchScriptConfig& config, const DataShape& shape);

}  // namespace repro::models
