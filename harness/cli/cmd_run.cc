// repro run: train from a config, deterministically, and record the run.
#include <iostream>

#include "options.h"
#include "outcome.h"
#include "repro/determinism.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/trainer.h"

namespace repro::cli {

int run_run(const Args& args) {
  const CommandSpec spec{"run", "repro run --config FILE [--set path=value]... [--runs-dir DIR] [--rehash] [--json]",
                         "Trains the model of a config with the built-in trainer, deterministically: one master\n"
                         "seed, deterministic algorithms, pinned threads (and CPU kernels, when the config pins\n"
                         "them: the process then re-executes itself with ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA\n"
                         "set). The run is recorded in <runs-dir>/<run id>; its path is printed last.\n"
                         "Exit: 0 finished, 1 the run failed, 2 bad config, flag or data, 130 interrupted."};
  po::options_description options("options");
  add_config_options(options);
  options.add_options()("runs-dir", po::value<std::string>()->value_name("DIR"),
                        "where to create the run directory (default: record.runs_dir of the config, \"runs\")");
  add_rehash_option(options);
  po::variables_map vm;
  if (!parse_command(spec, options, {}, args, vm)) return kExitOk;
  const proto::RunConfig config = config_from(vm);
  if (const auto pins = missing_pins(config.determinism()); !pins.empty()) reexecute_with_pins(pins);

  SessionOptions session;
  session.origin = "repro run";
  session.track_argv = false;  // the config names the data; its file is recorded as the config
  session.rehash = rehash_from(vm);
  if (vm.count("runs-dir")) session.runs_dir = vm["runs-dir"].as<std::string>();
  return report_outcome("run", train(config, session), vm.count("json") > 0);
}

}  // namespace repro::cli
