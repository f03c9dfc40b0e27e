// repro export: a finished run's final weights as a model snapshot tied to the run.
#include <iostream>

#include "options.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/snapshot.h"

namespace repro::cli {

int run_export(const Args& args) {
  const CommandSpec spec{"export", "repro export RUN_DIR --to FILE [--json]",
                         "Writes the final weights of a finished run (its checkpoint after the last step) to FILE,\n"
                         "with the run's identity: run id, config digest, data digest, code identity, parameter\n"
                         "digest (equal to the run's final digest; verified on every load). `repro show FILE`\n"
                         "prints the identity; repro::load_snapshot (repro/snapshot.h) reads the weights.\n"
                         "FILE is replaced atomically; a FIFO, device node or directory at FILE is never replaced\n"
                         "(exit 4, as for any write that fails)."};
  po::options_description options("options");
  options.add_options()("run-dir", po::value<std::string>()->value_name("RUN_DIR")->required(), "the run")(
      "to", po::value<std::string>()->value_name("FILE")->required(), "the snapshot file to write");
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  const auto id = export_snapshot(vm["run-dir"].as<std::string>(), vm["to"].as<std::string>());
  if (vm.count("json")) {
    std::cout << to_json(id);
  } else {
    std::cout << vm["to"].as<std::string>() << ": " << id.model() << " of run " << id.run_id() << ", param digest "
              << id.param_digest() << "\n";
  }
  return kExitOk;
}

}  // namespace repro::cli
