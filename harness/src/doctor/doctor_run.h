// What the doctor's checks share: argument checks, state restore, batches, one training step,
// and turning exceptions from the model into a failed check.
#pragma once

#include <ATen/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "doctor/doctor_layers.h"
#include "repro/doctor.h"

namespace repro::internal {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Throws Error (usage) naming what is missing from `target` or out of range in `options`.
void validate_doctor_args(const DoctorTarget& target, const DoctorOptions& options);

// Copies the target's parameters and buffers; the destructor copies them back and switches
// dropout back on when `dropout_off` switched it off. Gradients are cleared on restore.
class RestoreOnExit {
 public:
  RestoreOnExit(DoctorTarget& target, bool dropout_off);
  ~RestoreOnExit();
  RestoreOnExit(const RestoreOnExit&) = delete;
  RestoreOnExit& operator=(const RestoreOnExit&) = delete;

 private:
  DoctorTarget& target_;
  std::vector<at::Tensor> params_, buffers_;
  bool dropout_off_;
};

// Batch `index` of `size` samples: samples index*size, index*size+1, … wrapping around the pool.
std::pair<at::Tensor, at::Tensor> batch(const DoctorTarget& target, int64_t index, int64_t size);

// zero_grad; forward (traced into `layers` when not null); loss; backward; optimizer step.
// Returns the loss (detached), computed before the step.
at::Tensor train_step(DoctorTarget& target, torch::optim::Optimizer& optimizer, const at::Tensor& x,
                      const at::Tensor& y, std::vector<LayerOutput>* layers = nullptr);

// The tensors `optimizer` holds, named after target.parameters ("<unnamed #i>" otherwise).
NamedTensors optimizer_tensors(const DoctorTarget& target, torch::optim::Optimizer& optimizer);

// A check named `name` filled by `body`; an exception from the model, loss or optimizer makes it
// a failure with subject "exception" and the message as detail.
proto::DoctorCheck run_check(const std::string& name, const std::function<void(proto::DoctorCheck&)>& body);

void add_figure(proto::DoctorCheck& check, const std::string& name, double value);
// Marks `check` failed, naming `subject` (also appended to offenders when not empty).
void fail(proto::DoctorCheck& check, const std::string& subject, const std::string& detail);
// Marks `check` skipped (neither passed nor failed) with `reason` as its detail.
void skip(proto::DoctorCheck& check, const std::string& reason);
// "2.31" — a figure for a detail line (6 significant digits).
std::string fmt(double value);

}  // namespace repro::internal
