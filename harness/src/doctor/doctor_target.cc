// Doctor targets — from a C++ module, or from a config exactly as the built-in trainer builds
// it — and the whole checklist.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/optim.h>

#include "repro/determinism.h"
#include "repro/doctor.h"
#include "run/builtins.h"
#include "session/train_setup.h"

namespace repro {
namespace {

std::function<void(bool)> dropout_switch(const std::shared_ptr<torch::nn::Module>& module) {
  std::vector<std::shared_ptr<torch::nn::Module>> dropouts;
  for (const auto& m : module->modules(/*include_self=*/true)) {
    if (m->name().find("Dropout") != std::string::npos) dropouts.push_back(m);
  }
  if (dropouts.empty()) return {};
  return [dropouts](bool on) {
    for (const auto& m : dropouts) m->train(on);
  };
}

template <typename Dict>
std::vector<std::pair<std::string, at::Tensor>> named(const Dict& dict) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : dict) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace

DoctorTarget doctor_target(std::shared_ptr<torch::nn::Module> module,
                           std::function<at::Tensor(const at::Tensor&)> forward,
                           std::function<std::unique_ptr<torch::optim::Optimizer>()> make_optimizer, at::Tensor inputs,
                           at::Tensor targets) {
  DoctorTarget t;
  t.name = module->name();
  t.forward = std::move(forward);
  t.make_optimizer = std::move(make_optimizer);
  t.parameters = named(module->named_parameters(/*recurse=*/true));
  t.buffers = named(module->named_buffers(/*recurse=*/true));
  t.set_dropout = dropout_switch(module);
  t.inputs = std::move(inputs);
  t.targets = std::move(targets);
  return t;
}

proto::DoctorReport run_doctor(DoctorTarget& target, const DoctorOptions& options) {
  proto::DoctorReport report;
  report.set_schema_version(kDoctorReportSchemaVersion);
  report.set_model(target.name.empty() ? "model" : target.name);
  report.set_seed(target.seed);
  for (auto* check :
       {check_smoke, check_params_updated, check_loss_decreases, check_can_fit, check_finite, check_dead_units}) {
    *report.add_checks() = check(target, options);
  }
  bool passed = true;
  for (const auto& c : report.checks()) passed = passed && (c.passed() || c.skipped());
  report.set_passed(passed);
  return report;
}

DoctorTarget doctor_target(const proto::RunConfig& config) {
  const std::uint64_t seed = config.seed() != 0 ? config.seed() : draw_seed();
  apply_determinism(config.determinism(), seed);
  const auto& built_in = internal::builtins("repro doctor of a built-in config");
  const models::LoadedData data = built_in.load_data(config.data(), derive_seed(seed, "data.synthetic"));
  const internal::Splits s = internal::split_and_normalize(data, config.data(), derive_seed(seed, "data.split"));
  std::shared_ptr<models::TrainableModel> model =
      built_in.make_model(config.model(), {data.input_shape, data.num_classes});
  model->train(true);

  DoctorTarget target;
  target.name = model->name();
  target.forward = [model](const at::Tensor& x) { return model->forward(x); };
  target.parameters = model->named_parameters();
  target.buffers = model->named_buffers();
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : target.parameters) params.push_back(p);
  target.make_optimizer = [params, optimizer = config.optimizer()] {
    return internal::make_optimizer(optimizer, params);
  };
  if (const auto module = model->module()) target.set_dropout = dropout_switch(module);
  target.inputs = s.train_x;
  target.targets = s.train_y;
  target.seed = seed;
  return target;
}

proto::DoctorReport run_doctor(const proto::RunConfig& config, DoctorOptions options) {
  DoctorTarget target = doctor_target(config);
  options.batch_size = config.train().batch_size();
  return run_doctor(target, options);
}

int exit_code_of(const proto::DoctorReport& report) { return report.passed() ? 0 : 1; }

}  // namespace repro
