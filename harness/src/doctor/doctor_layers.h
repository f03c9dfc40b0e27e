// The doctor's layer outputs: the op trace of one forward (see repro/doctor.h for the naming).
#pragma once

#include <ATen/Tensor.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace repro::internal {

struct LayerOutput {
  std::string name;  // "hidden.0 (aten::linear)", "aten::relu after hidden.0"
  at::Tensor output;
};

// Why a check of layer outputs saw none (the detail of a skipped dead_units check).
inline constexpr const char* kNoLayersTraced =
    "no layer output traced: the forward ran no ATen op that the op trace sees on the calling thread "
    "(a forward on another thread, or one compiled into a single kernel, cannot be traced)";

// Runs `forward` on this thread while tracing the top-level ATen ops it calls, and returns the
// floating-point outputs of those ops that are not views of their inputs, in call order, named
// after `parameters` (see repro/doctor.h). `forward`'s result is returned through `result`.
std::vector<LayerOutput> capture_layers(const std::function<at::Tensor()>& forward,
                                        const std::vector<std::pair<std::string, at::Tensor>>& parameters,
                                        at::Tensor* result);

}  // namespace repro::internal
