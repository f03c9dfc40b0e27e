#include "session/nonfinite_guard.h"

#include <ATen/ATen.h>

#include <cmath>
#include <sstream>

#include "util/exact.h"

namespace repro::internal {
namespace {

// "nan (0x7fc00000)": the value and its exact bits, as the step stream holds them.
std::string value_with_bits(const at::Tensor& loss) {
  return loss.scalar_type() == at::kDouble ? text_with_bits(loss.item<double>()) : text_with_bits(loss.item<float>());
}

std::string first_nonfinite_gradient(const std::vector<std::pair<std::string, at::Tensor>>& parameters) {
  for (const auto& [name, p] : parameters) {
    const at::Tensor g = p.grad();
    if (g.defined() && !at::isfinite(g).all().item<bool>()) return name;
  }
  return "";
}

}  // namespace

std::optional<NonFinite> find_nonfinite(int64_t step, const std::vector<std::pair<std::string, at::Tensor>>& values,
                                        double grad_norm,
                                        const std::vector<std::pair<std::string, at::Tensor>>& parameters) {
  const std::string at_step = " at step " + std::to_string(step) + ": ";
  for (const auto& [name, value] : values) {
    if (!std::isfinite(value.item<double>())) {
      return NonFinite{name, "non-finite " + name + at_step + value_with_bits(value)};
    }
  }
  if (std::isnan(grad_norm) || std::isinf(grad_norm)) {
    std::ostringstream msg;
    msg << "non-finite gradient norm" << at_step << grad_norm;
    const std::string first = first_nonfinite_gradient(parameters);
    if (!first.empty()) msg << " (first non-finite gradient: " << first << ")";
    return NonFinite{"grad_norm", msg.str()};
  }
  return std::nullopt;
}

std::optional<NonFinite> find_nonfinite(int64_t step, const at::Tensor& loss, double grad_norm,
                                        const std::vector<std::pair<std::string, at::Tensor>>& parameters) {
  return find_nonfinite(step, {{"loss", loss}}, grad_norm, parameters);
}

}  // namespace repro::internal
