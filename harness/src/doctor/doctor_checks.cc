// The doctor's training checks: smoke, params_updated, loss_decreases, can_fit.
#include <ATen/ATen.h>
#include <torch/optim.h>

#include <cmath>
#include <optional>
#include <unordered_set>

#include "doctor/doctor_run.h"
#include "repro/doctor.h"
#include "session/train_setup.h"

namespace repro {
namespace {

using internal::add_figure;
using internal::fail;
using internal::fmt;

std::vector<at::Tensor> copies(const internal::NamedTensors& tensors) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> out;
  for (const auto& [name, t] : tensors) out.push_back(t.detach().clone());
  return out;
}

std::vector<at::Tensor> tensors_of(const internal::NamedTensors& named) {
  std::vector<at::Tensor> out;
  for (const auto& [name, t] : named) out.push_back(t);
  return out;
}

// Why `p` did not take part in a step, or nullopt when it did (changed, with a nonzero gradient).
std::optional<std::string> not_updated(const at::Tensor& p, const at::Tensor& before) {
  if (!p.requires_grad()) return "requires_grad is false but the optimizer holds it";
  const at::Tensor g = p.grad();
  if (!g.defined()) return "no gradient reached it (not connected to the loss)";
  if (!g.ne(0).any().item<bool>()) return "its gradient is zero";
  if (p.equal(before)) return "unchanged although its gradient is nonzero";
  return std::nullopt;
}

// Least-squares slope of y against 0..n-1 and its t statistic.
std::pair<double, double> slope_and_t(const std::vector<double>& y) {
  const double n = static_cast<double>(y.size());
  double mx = (n - 1) / 2, my = 0;
  for (double v : y) my += v / n;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    sxx += (i - mx) * (i - mx);
    sxy += (i - mx) * (y[i] - my);
  }
  const double slope = sxy / sxx;
  double sse = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double r = y[i] - my - slope * (i - mx);
    sse += r * r;
  }
  const double se = std::sqrt(sse / (n - 2) / sxx);
  return {slope, se > 0 ? slope / se : (slope < 0 ? -INFINITY : slope > 0 ? INFINITY : 0.0)};
}

double mean(const std::vector<double>& v, std::size_t begin, std::size_t end) {
  double s = 0;
  for (std::size_t i = begin; i < end; ++i) s += v[i];
  return s / static_cast<double>(end - begin);
}

void zero_weight_decay(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    auto& o = group.options();
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&o)) sgd->weight_decay(0);
    if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&o)) adam->weight_decay(0);
    if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&o)) adamw->weight_decay(0);
    if (auto* rms = dynamic_cast<torch::optim::RMSpropOptions*>(&o)) rms->weight_decay(0);
    if (auto* adagrad = dynamic_cast<torch::optim::AdagradOptions*>(&o)) adagrad->weight_decay(0);
  }
}

}  // namespace

proto::DoctorCheck check_smoke(DoctorTarget& target, const DoctorOptions& options) {
  internal::validate_doctor_args(target, options);
  return internal::run_check("smoke", [&](proto::DoctorCheck& check) {
    internal::RestoreOnExit restore(target, false);
    auto optimizer = target.make_optimizer();
    const auto held = internal::optimizer_tensors(target, *optimizer);
    const auto before = copies(held);
    const auto [x, y] = internal::batch(target, 0, options.batch_size);
    const double loss = internal::train_step(target, *optimizer, x, y).item<double>();
    const double norm = internal::grad_norm(tensors_of(held));
    int64_t changed = 0;
    for (std::size_t i = 0; i < held.size(); ++i) changed += held[i].second.equal(before[i]) ? 0 : 1;
    add_figure(check, "loss", loss);
    add_figure(check, "grad_norm", norm);
    add_figure(check, "tensors_changed", static_cast<double>(changed));
    add_figure(check, "tensors_in_optimizer", static_cast<double>(held.size()));
    const std::string summary = "one step on a batch of " + std::to_string(x.size(0)) + ": loss " + fmt(loss) +
                                ", gradient norm " + fmt(norm) + ", " + std::to_string(changed) + " of " +
                                std::to_string(held.size()) + " parameter tensors changed";
    if (!std::isfinite(loss)) {
      fail(check, "loss", summary + " (the loss is not finite)");
    } else if (changed == 0) {
      fail(check, "", summary + " (no parameter changed)");
    }
    if (check.passed()) check.set_detail(summary);
  });
}

proto::DoctorCheck check_params_updated(DoctorTarget& target, const DoctorOptions& options) {
  internal::validate_doctor_args(target, options);
  return internal::run_check("params_updated", [&](proto::DoctorCheck& check) {
    internal::RestoreOnExit restore(target, false);
    auto optimizer = target.make_optimizer();
    const auto held = internal::optimizer_tensors(target, *optimizer);
    std::vector<std::optional<std::string>> why(held.size());
    std::vector<int64_t> first_step(held.size(), -1);
    for (int64_t step = 0; step < options.update_steps; ++step) {
      const auto before = copies(held);
      const auto [x, y] = internal::batch(target, step, options.batch_size);
      internal::train_step(target, *optimizer, x, y);
      for (std::size_t i = 0; i < held.size(); ++i) {
        if (why[i]) continue;
        why[i] = not_updated(held[i].second, before[i]);
        if (why[i]) first_step[i] = step;
      }
    }
    int64_t bad = 0;
    std::string first;
    for (std::size_t i = 0; i < held.size(); ++i) {
      if (!why[i]) continue;
      ++bad;
      if (first.empty()) {
        first = held[i].first + " was not updated at step " + std::to_string(first_step[i]) + ": " + *why[i];
      }
      fail(check, held[i].first, first);
    }
    // A tensor that requires grad but that no optimizer step can change.
    std::unordered_set<const void*> in_optimizer;
    for (const auto& [name, p] : held) in_optimizer.insert(p.unsafeGetTensorImpl());
    for (const auto& [name, p] : target.parameters) {
      if (!p.requires_grad() || in_optimizer.count(p.unsafeGetTensorImpl())) continue;
      ++bad;
      if (first.empty()) first = name + " requires grad but the optimizer does not hold it";
      fail(check, name, first);
    }
    add_figure(check, "steps", static_cast<double>(options.update_steps));
    add_figure(check, "tensors_in_optimizer", static_cast<double>(held.size()));
    add_figure(check, "tensors_not_updated", static_cast<double>(bad));
    if (check.passed()) {
      check.set_detail("all " + std::to_string(held.size()) + " parameter tensors changed at each of " +
                       std::to_string(options.update_steps) + " steps");
    } else {
      std::string names;
      for (const auto& o : check.offenders()) names += (names.empty() ? "" : ", ") + o;
      check.set_detail(first + " (" + std::to_string(bad) + " tensors not updated: " + names + ")");
    }
  });
}

proto::DoctorCheck check_loss_decreases(DoctorTarget& target, const DoctorOptions& options) {
  internal::validate_doctor_args(target, options);
  return internal::run_check("loss_decreases", [&](proto::DoctorCheck& check) {
    internal::RestoreOnExit restore(target, false);
    auto optimizer = target.make_optimizer();
    std::vector<double> losses;
    for (int64_t step = 0; step < options.trend_steps; ++step) {
      const auto [x, y] = internal::batch(target, step, options.batch_size);
      losses.push_back(internal::train_step(target, *optimizer, x, y).item<double>());
      if (!std::isfinite(losses.back())) {
        fail(check, "loss", "the loss is " + fmt(losses.back()) + " at step " + std::to_string(step));
        return;
      }
    }
    const auto [slope, t] = slope_and_t(losses);
    const std::size_t third = losses.size() / 3;
    const double first = mean(losses, 0, third), last = mean(losses, losses.size() - third, losses.size());
    add_figure(check, "steps", static_cast<double>(losses.size()));
    add_figure(check, "slope", slope);
    add_figure(check, "slope_t", t);
    add_figure(check, "first_third_mean_loss", first);
    add_figure(check, "last_third_mean_loss", last);
    const std::string summary = "over " + std::to_string(losses.size()) + " steps the loss went from " + fmt(first) +
                                " (first third's mean) to " + fmt(last) + " (last third's), slope " + fmt(slope) +
                                " per step, t = " + fmt(t);
    if (!(slope < 0 && t <= options.trend_t && last < first)) {
      fail(check, "", summary + " (needs a negative slope with t <= " + fmt(options.trend_t) + ")");
    } else {
      check.set_detail(summary);
    }
  });
}

proto::DoctorCheck check_can_fit(DoctorTarget& target, const DoctorOptions& options) {
  internal::validate_doctor_args(target, options);
  return internal::run_check("can_fit", [&](proto::DoctorCheck& check) {
    internal::RestoreOnExit restore(target, /*dropout_off=*/true);
    auto optimizer = target.make_optimizer();
    zero_weight_decay(*optimizer);
    const int64_t size = std::min(options.fit_batch_size, target.inputs.size(0));
    const auto [x, y] = internal::batch(target, 0, size);
    double first = NAN, loss = NAN, best = INFINITY;
    int64_t steps = 0;
    while (steps < options.fit_steps) {
      loss = internal::train_step(target, *optimizer, x, y).item<double>();
      if (steps++ == 0) first = loss;
      best = std::min(best, loss);
      if (!std::isfinite(loss) || loss <= options.fit_loss) break;
    }
    add_figure(check, "batch_size", static_cast<double>(size));
    add_figure(check, "steps", static_cast<double>(steps));
    add_figure(check, "initial_loss", first);
    add_figure(check, "final_loss", loss);
    add_figure(check, "best_loss", best);
    add_figure(check, "fit_loss", options.fit_loss);
    const std::string on = " on a fixed batch of " + std::to_string(size) + " (dropout and weight decay off)";
    if (loss <= options.fit_loss) {
      check.set_detail("loss " + fmt(first) + " -> " + fmt(loss) + " in " + std::to_string(steps) + " steps" + on);
    } else {
      fail(check, "",
           "loss " + fmt(first) + " -> " + fmt(loss) + " (best " + fmt(best) + ") after " + std::to_string(steps) +
               " steps" + on + ", never reaching " + fmt(options.fit_loss) + ": the model cannot fit the batch");
    }
  });
}

}  // namespace repro
