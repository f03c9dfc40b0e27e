// repro resume: continue an interrupted or failed `repro run` from its newest checkpoint.
#include <iostream>

#include "options.h"
#include "outcome.h"
#include "repro/determinism.h"
#include "repro/distributed.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/launch.h"
#include "repro/record.h"
#include "repro/trainer.h"

namespace repro::cli {

int run_resume(const Args& args) {
  const CommandSpec spec{"resume", "repro resume RUN_DIR [--strict] [--intra-op-threads N] [--json]",
                         "Continues an interrupted or failed run of the built-in trainer in this process, in the\n"
                         "same run directory, from its newest checkpoint that verifies (a corrupt newer one is\n"
                         "named in a warning and skipped), with the recorded config and seed. Steps and\n"
                         "evaluations recorded after that checkpoint are dropped and done again; without a\n"
                         "checkpoint the run starts again from step 0. The result is bit for bit the run that was\n"
                         "never interrupted, provided the environment is the same: a difference that can change\n"
                         "numerics (those `repro compare` marks so: threads, torch build, CPU, libraries, numerics\n"
                         "variables, compiler, glibc, CUDA, packages; and data files) is named in a warning, or\n"
                         "refused with --strict.\n"
                         "Exit: 0 finished, 1 the run failed, 2 nothing to resume (finished or still running),\n"
                         "bad flag, or a difference under --strict, 4 an I/O or resource failure, 130 interrupted."};
  po::options_description options("options");
  options.add_options()("run-dir", po::value<std::string>()->value_name("RUN_DIR")->required(),
                        "the run directory to continue")(
      "strict", "refuse (exit 2) when the environment differs from the recorded one in a way that can change numerics")(
      "intra-op-threads", po::value<int>()->value_name("N"),
      "run the rest with N intra-op threads instead of the recorded count (a difference: warned, --strict refuses)");
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  const std::string dir = vm["run-dir"].as<std::string>();

  const RunData run = read_run(dir);
  if (run.header.origin() != "repro run") {
    throw Error::usage(dir + ": made by '" + run.header.origin() +
                       "', not the built-in trainer; resume it by running that program again with "
                       "SessionOptions::resume_dir");
  }
  proto::RunConfig config = run.header.config();
  if (vm.count("intra-op-threads")) {
    const int threads = vm["intra-op-threads"].as<int>();
    if (threads < 1)
      throw Error::usage("repro resume: --intra-op-threads must be >= 1 (got " + std::to_string(threads) + ")");
    config.mutable_determinism()->set_intra_op_threads(threads);
  }
  if (run.header.distributed().world_size() > 1 && !rank_environment()) {
    // The job's ranks again, each a `repro resume` of its own that joins the new job.
    LaunchOptions job;
    job.nproc = run.header.distributed().world_size();
    job.run_dir = dir;
    std::vector<std::string> command{"resume"};
    command.insert(command.end(), args.begin(), args.end());
    const LaunchResult launched = launch_self(command, job);
    if (vm.count("json") == 0) {
      if (launched.exit_code != 0) std::cerr << "repro resume: " << launched.failed << "\n";
      std::cout << dir << "\n";
    }
    return launched.exit_code;
  }
  if (const auto pins = missing_pins(config.determinism()); !pins.empty()) reexecute_with_pins(pins);

  SessionOptions session;
  session.resume_dir = dir;
  session.strict_resume = vm.count("strict") > 0;
  return report_outcome("resume", train(config, session), vm.count("json") > 0);
}

}  // namespace repro::cli
