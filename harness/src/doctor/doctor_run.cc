#include "doctor/doctor_run.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/optim.h>

#include <sstream>
#include <unordered_map>

#include "repro/error.h"

namespace repro::internal {

void validate_doctor_args(const DoctorTarget& target, const DoctorOptions& o) {
  if (!target.forward) throw Error::usage("doctor: the target has no forward function");
  if (!target.make_optimizer) throw Error::usage("doctor: the target has no make_optimizer function");
  if (!target.inputs.defined() || !target.targets.defined() || target.inputs.dim() == 0 || target.inputs.size(0) < 1 ||
      target.targets.dim() == 0 || target.targets.size(0) != target.inputs.size(0)) {
    throw Error::usage("doctor: the target needs inputs and targets with the same number (>= 1) of samples");
  }
  auto positive = [](int64_t v, const char* field) {
    if (v < 1) throw Error::usage(std::string("doctor: ") + field + " must be >= 1 (got " + std::to_string(v) + ")");
  };
  positive(o.batch_size, "batch_size");
  positive(o.update_steps, "update_steps");
  positive(o.fit_batch_size, "fit_batch_size");
  positive(o.fit_steps, "fit_steps");
  if (o.trend_steps < 3)
    throw Error::usage("doctor: trend_steps must be >= 3 (got " + std::to_string(o.trend_steps) + ")");
  if (!(o.fit_loss > 0)) throw Error::usage("doctor: fit_loss must be > 0 (got " + fmt(o.fit_loss) + ")");
  if (!(o.dead_fraction >= 0 && o.dead_fraction < 1)) {
    throw Error::usage("doctor: dead_fraction must be in [0, 1) (got " + fmt(o.dead_fraction) + ")");
  }
}

RestoreOnExit::RestoreOnExit(DoctorTarget& target, bool dropout_off) : target_(target), dropout_off_(dropout_off) {
  at::NoGradGuard no_grad;
  for (const auto& [name, p] : target.parameters) params_.push_back(p.detach().clone());
  for (const auto& [name, b] : target.buffers) buffers_.push_back(b.detach().clone());
  if (dropout_off_ && target.set_dropout) target.set_dropout(false);
}

RestoreOnExit::~RestoreOnExit() {
  try {
    at::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      at::Tensor p = target_.parameters[i].second;
      p.copy_(params_[i]);
      if (p.grad().defined()) p.mutable_grad() = at::Tensor();
    }
    for (std::size_t i = 0; i < buffers_.size(); ++i) target_.buffers[i].second.copy_(buffers_[i]);
    if (dropout_off_ && target_.set_dropout) target_.set_dropout(true);
  } catch (...) {  // a destructor never throws; the copies have the same shapes
  }
}

std::pair<at::Tensor, at::Tensor> batch(const DoctorTarget& target, int64_t index, int64_t size) {
  const int64_t n = target.inputs.size(0);
  const at::Tensor idx = at::remainder(at::arange(size, at::kLong) + (index * size) % n, n);
  return {target.inputs.index_select(0, idx), target.targets.index_select(0, idx)};
}

at::Tensor train_step(DoctorTarget& target, torch::optim::Optimizer& optimizer, const at::Tensor& x,
                      const at::Tensor& y, std::vector<LayerOutput>* layers) {
  optimizer.zero_grad();
  at::Tensor out;
  if (layers != nullptr) {
    *layers = capture_layers([&] { return target.forward(x); }, target.parameters, &out);
  } else {
    out = target.forward(x);
  }
  const at::Tensor loss = target.loss ? target.loss(out, y) : at::cross_entropy_loss(out, y);
  if (loss.numel() != 1) {
    throw Error::usage("doctor: the loss must be a scalar (got shape " + c10::str(loss.sizes()) + ")");
  }
  loss.backward();
  optimizer.step();
  return loss.detach();
}

NamedTensors optimizer_tensors(const DoctorTarget& target, torch::optim::Optimizer& optimizer) {
  std::unordered_map<const void*, std::string> names;
  for (const auto& [name, p] : target.parameters) names.emplace(p.unsafeGetTensorImpl(), name);
  NamedTensors out;
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& p : group.params()) {
      const auto it = names.find(p.unsafeGetTensorImpl());
      out.emplace_back(it != names.end() ? it->second : "<unnamed #" + std::to_string(out.size()) + ">", p);
    }
  }
  return out;
}

proto::DoctorCheck run_check(const std::string& name, const std::function<void(proto::DoctorCheck&)>& body) {
  proto::DoctorCheck check;
  check.set_name(name);
  check.set_passed(true);
  try {
    body(check);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kUsage) throw;
    fail(check, "exception", e.what());
  } catch (const c10::Error& e) {
    fail(check, "exception", e.what_without_backtrace());
  } catch (const std::exception& e) {
    fail(check, "exception", e.what());
  }
  return check;
}

void add_figure(proto::DoctorCheck& check, const std::string& name, double value) {
  auto* f = check.add_figures();
  f->set_name(name);
  f->set_value(value);
}

void fail(proto::DoctorCheck& check, const std::string& subject, const std::string& detail) {
  if (check.passed() || check.skipped()) {  // the first failure names the subject and gives the detail
    check.set_passed(false);
    check.set_skipped(false);
    check.set_subject(subject);
    check.set_detail(detail);
  }
  if (!subject.empty()) check.add_offenders(subject);
}

void skip(proto::DoctorCheck& check, const std::string& reason) {
  check.set_passed(false);
  check.set_skipped(true);
  check.clear_subject();
  check.set_detail(reason);
}

std::string fmt(double value) {
  std::ostringstream s;
  s.precision(6);
  s << value;
  return s.str();
}

}  // namespace repro::internal
