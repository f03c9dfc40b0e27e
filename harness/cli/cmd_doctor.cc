// repro doctor: model health checks on a config's model and data (repro/doctor.h).
#include <iostream>

#include "options.h"
#include "repro/determinism.h"
#include "repro/doctor.h"
#include "repro/environment.h"
#include "repro/error.h"

namespace repro::cli {

int run_doctor(const Args& args) {
  const CommandSpec spec{"doctor", "repro doctor --config FILE [--set path=value]... [--json]",
                         "Checks that the config's model trains for the right reasons, on its own data, built as\n"
                         "`repro run` builds it (seeded, same split, same optimizer): smoke (one step runs, gives a\n"
                         "finite loss and changes parameters), params_updated (every tensor the optimizer holds\n"
                         "changes at each of the first 3 steps), loss_decreases (a significant downward trend over\n"
                         "30 steps), can_fit (dropout and weight decay off, the loss on one batch of 16 reaches\n"
                         "0.05 within 300 steps), finite (no NaN/Inf in parameters, layer outputs, loss, gradients\n"
                         "over 30 steps) and dead_units (no layer with more than 50% of its units zero for every\n"
                         "sample of a batch). Each check prints PASS or FAIL, the parameter or layer concerned, and\n"
                         "its figures, or SKIP and why when it could not see what it checks (no layer output traced).\n"
                         "Nothing is recorded.\n"
                         "Exit: 0 no check failed (skipped ones are named), 1 a check failed, 2 bad config, flag or\n"
                         "data."};
  po::options_description options("options");
  add_config_options(options);
  po::variables_map vm;
  if (!parse_command(spec, options, {}, args, vm)) return kExitOk;
  const proto::RunConfig config = config_from(vm);
  if (const auto pins = missing_pins(config.determinism()); !pins.empty()) reexecute_with_pins(pins);

  const proto::DoctorReport report = repro::run_doctor(config);
  if (vm.count("json")) {
    std::cout << to_json(report);
  } else {
    std::cout << format_doctor_report(report);
  }
  return exit_code_of(report);
}

}  // namespace repro::cli
