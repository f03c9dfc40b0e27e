// repro/doctor.h: model health checks — does the model train for the right reasons?
//
// The checklist practitioners keep for a new model, run on any model reprotorch can train:
//
//   check           passes when                                                 names on failure
//   smoke           one gradient step on a batch runs, gives a finite loss and  the loss, or what threw
//                   changes parameters
//   params_updated  over the first update_steps steps every tensor the          each tensor not updated, and why
//                   optimizer holds changes at every step and gets a nonzero    (requires_grad false, no gradient
//                   gradient; a tensor that requires grad but is not in the     reached it, zero gradient)
//                   optimizer fails too
//   loss_decreases  over trend_steps steps on consecutive batches the least-    —
//                   squares slope of loss against step is negative with
//                   t <= trend_t, and the last third's mean is below the first's
//   can_fit         with dropout and weight decay off, the loss on one fixed    —
//                   batch of fit_batch_size samples reaches fit_loss within
//                   fit_steps steps
//   finite          over trend_steps steps no NaN or Inf in the parameters,     the first offender, with its step
//                   layer outputs, loss or gradients
//   dead_units      on one batch (dropout off) no layer has more than          each such layer and its fraction
//                   dead_fraction of its units dead: a unit is one output
//                   element of a sample (a feature; a channel at a position)
//                   and dead when it is zero for every sample of the batch
//
// Every check starts from the model as it is and leaves it so: parameters and buffers are
// restored and a fresh optimizer is built for each (so the checks can run in any order, and
// after them training starts as if they had not run). Batches are consecutive slices of the
// sample pool (wrapping around), batch i starting at sample i * batch_size.
//
// dead_units counts units zero across the whole batch, not single zeros: a healthy ReLU layer
// has about half of its outputs at zero (53% on the demo CNN's first ReLU at initialisation),
// while a dead one is zero whatever the input. Both fractions are in the figures.
//
// Layer outputs come from the op trace: the outputs of every top-level ATen op the forward runs
// on the calling thread (RecordFunction), named after the module whose parameters the op
// consumes ("hidden.0 (aten::linear)") or after the last such module ("aten::relu after
// hidden.0"). Outputs that are views of an input (flatten, an eval-mode dropout) are not layers.
// This works for any module, C++ or TorchScript (the interpreter's ops; a TorchScript submodule
// `fc1` with parameters fc1.weight and fc1.bias names "fc1 (aten::linear)"), whatever its
// forward does. Where no layer output can be seen (a forward that runs its ops on another
// thread, or in one compiled kernel), dead_units is SKIPPED with that reason and finite says
// it checked parameters, loss and gradients only: a check that saw nothing never passes.
//
// Each check ends PASS, FAIL or SKIP (DoctorCheck.passed / .skipped). A skipped check does not
// fail the report: `repro doctor` exits 0 and names it in its summary ("5 of 6 checks passed,
// 1 skipped: dead_units"), EXPECT_MODEL_HEALTHY accepts it, EXPECT_DOCTOR_PASS does not.
//
//   repro::DoctorTarget target = repro::doctor_target(net.ptr(),
//       [&](const at::Tensor& x) { return net->forward(x); },
//       [&] { return std::make_unique<torch::optim::SGD>(net->parameters(), 0.1); }, inputs, labels);
//   proto::DoctorReport report = repro::run_doctor(target);
//   std::cout << repro::format_doctor_report(report);
//
// repro/testing.h wraps the checks as GoogleTest assertions; `repro doctor --config FILE` runs
// them on a config's model and data, built exactly as `repro run` builds them.
// A check that fails reports it; exceptions thrown by the model's forward, the loss or the
// optimizer are caught and reported as the check's failure (subject "exception"). Only bad
// arguments throw: Error (usage) for a target without forward, make_optimizer or samples, or
// options out of range.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proto/doctor.pb.h"
#include "proto/run_config.pb.h"

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace repro {

inline constexpr unsigned kDoctorReportSchemaVersion = 1;

// What the checks examine: a model as callables, so that C++ modules, TorchScript modules and the
// built-in models all fit.
struct DoctorTarget {
  std::string name;  // for the report; default "model"
  // The model's output for a batch of inputs (samples along dimension 0). Required.
  std::function<at::Tensor(const at::Tensor& inputs)> forward;
  // A scalar loss; empty: mean cross-entropy of logits [B, C] against class indices [B].
  std::function<at::Tensor(const at::Tensor& outputs, const at::Tensor& targets)> loss;
  // Builds a fresh optimizer over the model's parameters (called once per check). Required.
  std::function<std::unique_ptr<torch::optim::Optimizer>()> make_optimizer;
  // The model's named parameters and buffers: restored after each check; parameters name the
  // optimizer's tensors and the layers of the op trace.
  std::vector<std::pair<std::string, at::Tensor>> parameters;
  std::vector<std::pair<std::string, at::Tensor>> buffers;
  // Switches dropout on (true) or off (false); empty: the model has none to switch.
  std::function<void(bool on)> set_dropout;
  // The sample pool: inputs [N, ...] and targets [N, ...]. Required (N >= 1).
  at::Tensor inputs;
  at::Tensor targets;
  // The master seed the target was built with (doctor_target(config)); 0 otherwise.
  std::uint64_t seed = 0;
};

// A target for a C++ module: name, parameters and buffers from `module` (recursive), and
// set_dropout putting every submodule whose name contains "Dropout" (Dropout, Dropout2d,
// AlphaDropout… or your own) in eval (off) or train (on) mode.
DoctorTarget doctor_target(std::shared_ptr<torch::nn::Module> module,
                           std::function<at::Tensor(const at::Tensor&)> forward,
                           std::function<std::unique_ptr<torch::optim::Optimizer>()> make_optimizer, at::Tensor inputs,
                           at::Tensor targets);

// Defaults keep a doctor run to seconds on small models.
struct DoctorOptions {
  int64_t batch_size = 32;      // samples per batch (the pool wraps around when smaller)
  int64_t update_steps = 3;     // params_updated: K steps, every tensor must change at each
  int64_t trend_steps = 30;     // loss_decreases and finite: N steps
  double trend_t = -2.0;        // loss_decreases: the slope's t statistic must be <= this
  int64_t fit_batch_size = 16;  // can_fit: the fixed batch (the first samples of the pool)
  int64_t fit_steps = 300;      // can_fit: at most this many steps
  double fit_loss = 0.05;       // can_fit: the loss to reach
  double dead_fraction = 0.5;   // dead_units: a layer fails above this fraction of dead units
};

// The checks, one by one (see the table above). Throw Error (usage) for a bad target or options.
proto::DoctorCheck check_smoke(DoctorTarget& target, const DoctorOptions& options = {});
proto::DoctorCheck check_params_updated(DoctorTarget& target, const DoctorOptions& options = {});
proto::DoctorCheck check_loss_decreases(DoctorTarget& target, const DoctorOptions& options = {});
proto::DoctorCheck check_can_fit(DoctorTarget& target, const DoctorOptions& options = {});
proto::DoctorCheck check_finite(DoctorTarget& target, const DoctorOptions& options = {});
proto::DoctorCheck check_dead_units(DoctorTarget& target, const DoctorOptions& options = {});

// Every check, in the order of the table; `passed` when none fails (each passed or skipped).
proto::DoctorReport run_doctor(DoctorTarget& target, const DoctorOptions& options = {});

// A target for a config's model and data, built exactly as the built-in trainer builds them
// (repro/trainer.h steps 1-4: determinism applied in this process and torch seeded from
// config.seed (0: a drawn seed, in target.seed), data loaded, split and normalised, the model
// in training mode, the configured optimizer at its base lr, no schedule); the pool is the
// training split in split order. `config` must be resolved and validated (repro/config.h).
// Nothing is recorded. Throws Error (usage/input) as the trainer does for bad input, and
// Error (usage) in a program that does not link the built-in models (as repro::train).
DoctorTarget doctor_target(const proto::RunConfig& config);

// run_doctor(doctor_target(config)) with options.batch_size = train.batch_size.
proto::DoctorReport run_doctor(const proto::RunConfig& config, DoctorOptions options = {});

// Text: the verdict ("all 6 checks passed", "1 of 6 checks failed: finite", with "; 1 skipped:
// dead_units" when a check was skipped), then one line per check (PASS/FAIL/SKIP, name,
// subject, detail), then the figures.
std::string format_doctor_report(const proto::DoctorReport& report);
// One check as text: "FAIL finite [hidden.0.weight]: ..." followed by its figures.
std::string format_doctor_check(const proto::DoctorCheck& check);

// 0 when no check failed (each passed or was skipped), 1 otherwise.
int exit_code_of(const proto::DoctorReport& report);

}  // namespace repro
