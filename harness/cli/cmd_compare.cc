// repro compare: compare two runs, verdict first, then the named causes and the numbers.
#include <iostream>

#include "options.h"
#include "repro/compare.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/record.h"

namespace repro::cli {

int run_compare(const Args& args) {
  const CommandSpec spec{"compare",
                         "repro compare RUN_A RUN_B [--json] [--rtol X] [--atol X] [--from-step N] [--no-color]",
                         "Compares two run directories: the loss of every common step as IEEE-754 bits, parameter\n"
                         "digests and final metrics, and names every difference between the two run headers\n"
                         "(config, seeds, data, code, environment, model), numerics-affecting first. The tolerance\n"
                         "is run A's config check section unless --rtol/--atol/--from-step are given.\n"
                         "Exit code 0 when identical or within tolerance, 1 when diverged or incomparable."};
  po::options_description options("options");
  add_tolerance_flags(options);
  add_color_option(options);
  options.add_options()("run-a", po::value<std::string>()->value_name("RUN_A"), "reference run")(
      "run-b", po::value<std::string>()->value_name("RUN_B"), "run compared with it");
  po::positional_options_description positional;
  positional.add("run-a", 1).add("run-b", 1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  if (!vm.count("run-a") || !vm.count("run-b")) {
    throw Error::usage("repro compare: needs two run directories RUN_A RUN_B (see 'repro compare --help')");
  }

  const RunData a = read_run(vm["run-a"].as<std::string>());
  const RunData b = read_run(vm["run-b"].as<std::string>());
  const Tolerance tolerance = tolerance_from_flags(vm, tolerance_of(a.header.config()));

  const proto::ComparisonReport report = compare_runs(a, b, tolerance);
  if (vm.count("json")) {
    std::cout << to_json(report);
  } else {
    std::cout << format_report(report, use_color(vm));
  }
  std::cout << std::flush;
  return exit_code_of(report);
}

}  // namespace repro::cli
