// The NaN/Inf guard of every run (train.on_nonfinite): finds what is not finite in a step.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace repro::internal {

struct NonFinite {
  std::string tensor;   // "loss", the named value ("g_loss"), or "grad_norm"
  std::string message;  // "non-finite loss at step 3: nan (0x7fc00000)"
};

// What is not finite at `step`: the loss first, then the gradient norm (negative: not reported);
// for a gradient norm, the message names the first of `parameters` whose gradient has a NaN or
// Inf element. nullopt when both are finite.
std::optional<NonFinite> find_nonfinite(int64_t step, const at::Tensor& loss, double grad_norm,
                                        const std::vector<std::pair<std::string, at::Tensor>>& parameters);

// The same for a step that records named values (Session::record_step with NamedValues): each
// value in order, then the gradient norm; the message names the value ("non-finite g_loss at
// step 3: nan (0x7fc00000)").
std::optional<NonFinite> find_nonfinite(int64_t step, const std::vector<std::pair<std::string, at::Tensor>>& values,
                                        double grad_norm,
                                        const std::vector<std::pair<std::string, at::Tensor>>& parameters);

}  // namespace repro::internal
