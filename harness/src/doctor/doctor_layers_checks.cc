// The doctor's value checks: finite (parameters, layer outputs, loss, gradients) and dead_units.
#include <ATen/ATen.h>
#include <torch/optim.h>

#include <cmath>
#include <optional>

#include "doctor/doctor_run.h"
#include "repro/doctor.h"

namespace repro {
namespace {

using internal::add_figure;
using internal::fail;
using internal::fmt;

// "3 NaN and 1 Inf of 512 elements", or "" when every element is finite.
std::string nonfinite_elements(const at::Tensor& t) {
  const at::Tensor d = t.detach();
  if (at::isfinite(d).all().item<bool>()) return "";
  const int64_t nan = at::isnan(d).sum().item<int64_t>(), inf = at::isinf(d).sum().item<int64_t>();
  return std::to_string(nan) + " NaN and " + std::to_string(inf) + " Inf of " + std::to_string(d.numel()) + " elements";
}

// The first tensor of `tensors` with a non-finite element, as {name, description}.
std::optional<std::pair<std::string, std::string>> first_nonfinite(const internal::NamedTensors& tensors) {
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) continue;
    if (const std::string what = nonfinite_elements(t); !what.empty()) return std::make_pair(name, what);
  }
  return std::nullopt;
}

internal::NamedTensors layer_tensors(const std::vector<internal::LayerOutput>& layers) {
  internal::NamedTensors out;
  for (const auto& l : layers) out.emplace_back(l.name, l.output);
  return out;
}

internal::NamedTensors gradients(const internal::NamedTensors& params) {
  internal::NamedTensors out;
  for (const auto& [name, p] : params) out.emplace_back(name, p.grad());
  return out;
}

}  // namespace

proto::DoctorCheck check_finite(DoctorTarget& target, const DoctorOptions& options) {
  internal::validate_doctor_args(target, options);
  return internal::run_check("finite", [&](proto::DoctorCheck& check) {
    internal::RestoreOnExit restore(target, false);
    auto optimizer = target.make_optimizer();
    int64_t steps = 0;
    std::size_t layer_outputs = 0;  // traced at the last step
    auto report = [&](const std::string& where, const std::optional<std::pair<std::string, std::string>>& found) {
      if (!found) return false;
      fail(check, found->first, where + ": " + found->first + " has " + found->second);
      return true;
    };
    if (report("before training, parameter", first_nonfinite(target.parameters))) return;
    for (; steps < options.trend_steps; ++steps) {
      const std::string at_step = "step " + std::to_string(steps);
      const auto [x, y] = internal::batch(target, steps, options.batch_size);
      std::vector<internal::LayerOutput> layers;
      const at::Tensor loss = internal::train_step(target, *optimizer, x, y, &layers);
      layer_outputs = layers.size();
      // In the order they were computed: layer outputs, loss, gradients, then the update.
      if (report(at_step + ", layer output", first_nonfinite(layer_tensors(layers))) ||
          report(at_step, first_nonfinite({{"loss", loss}})) ||
          report(at_step + ", gradient", first_nonfinite(gradients(target.parameters))) ||
          report(at_step + ", after the update, parameter", first_nonfinite(target.parameters))) {
        break;
      }
    }
    add_figure(check, "steps", static_cast<double>(check.passed() ? steps : steps + 1));
    add_figure(check, "layer_outputs", static_cast<double>(layer_outputs));
    if (check.passed()) {
      // Only what was seen is claimed: without traced layers, parameters, loss and gradients.
      const std::string over = " finite over " + std::to_string(steps) + " steps";
      check.set_detail(
          layer_outputs == 0
              ? "parameters, loss and gradients" + over + "; layer outputs not checked: " + internal::kNoLayersTraced
              : "parameters, " + std::to_string(layer_outputs) + " layer outputs, loss and gradients" + over);
    }
  });
}

proto::DoctorCheck check_dead_units(DoctorTarget& target, const DoctorOptions& options) {
  internal::validate_doctor_args(target, options);
  return internal::run_check("dead_units", [&](proto::DoctorCheck& check) {
    internal::RestoreOnExit restore(target, /*dropout_off=*/true);              // dropout's zeros are not dead units
    const at::Tensor x = internal::batch(target, 0, options.batch_size).first;  // a lambda cannot capture a binding
    at::NoGradGuard no_grad;
    at::Tensor out;
    const auto layers = internal::capture_layers([&] { return target.forward(x); }, target.parameters, &out);
    std::string worst;
    double worst_fraction = -1;
    for (const auto& l : layers) {
      // A unit is one output element of a sample (a feature, or a channel at a position); it is
      // dead when it is zero for every sample of the batch.
      const at::Tensor zero = l.output.reshape({l.output.dim() > 0 ? l.output.size(0) : 1, -1}).eq(0);
      const double dead = zero.all(0).to(at::kDouble).mean().item<double>();
      add_figure(check, "dead_fraction: " + l.name, dead);
      add_figure(check, "zero_fraction: " + l.name, zero.to(at::kDouble).mean().item<double>());
      if (dead > worst_fraction) {
        worst_fraction = dead;
        worst = l.name;
      }
      if (dead > options.dead_fraction) {
        fail(check, l.name,
             l.name + ": " + fmt(100 * dead) + "% of its " + std::to_string(zero.size(1)) + " units are zero for all " +
                 std::to_string(x.size(0)) + " samples of a batch (limit " + fmt(100 * options.dead_fraction) + "%)");
      }
    }
    if (layers.empty()) {
      internal::skip(check, internal::kNoLayersTraced);  // a check that saw nothing does not pass
    } else if (check.passed()) {
      check.set_detail(std::to_string(layers.size()) + " layers; the most dead units: " + worst + ", " +
                       fmt(100 * worst_fraction) + "%");
    }
  });
}

}  // namespace repro
