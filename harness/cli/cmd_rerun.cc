// repro rerun: re-execute a recorded run in a fresh process and compare it with the original.
#include <iostream>

#include "options.h"
#include "repro/compare.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/rerun.h"

namespace repro::cli {

int run_rerun(const Args& args) {
  const CommandSpec spec{
      "rerun",
      "repro rerun RUN_DIR [--runs-dir DIR] [--json] [--rtol X] [--atol X] [--from-step N]\n"
      "                   [--allow-data-change] [--allow-model-change] [--allow-changed-code] [--rehash]\n"
      "                   [--match-kernels] [--no-color]",
      "Re-executes a recorded run in a fresh process — a built-in run from its recorded resolved\n"
      "config, a user's program from its recorded argv and working directory — with the recorded\n"
      "seed and numerics environment (thread counts, CPU-kernel pins, OMP_*/MKL_*... variables),\n"
      "into a new run directory, then compares the two and prints the report.\n"
      "Refuses before running when an input file's content (data, or the model file of a\n"
      "TorchScript run) changed since the run, or (for a user's program) the executable did,\n"
      "naming it (a tracked directory by its files added, removed and changed); the --allow\n"
      "flags run anyway and report it. A path tracked only because it was on the program's\n"
      "command line may be an output: its change is named in the report, never refused.\n"
      "Before starting it compares this machine's CPU-kernel choices (ATen capability, oneDNN\n"
      "ISA, OpenBLAS core, libm variant) with the run's, for those the run left unpinned, and\n"
      "warns about each that differs; --match-kernels pins the recorded ones instead (exit 2\n"
      "when this CPU cannot run them, e.g. a run on AVX-512 kernels rerun on an AVX2 machine).\n"
      "Exit: 0 identical or within tolerance, 1 diverged, 2 refused or bad input."};
  po::options_description options("options");
  options.add_options()("run-dir", po::value<std::string>()->value_name("RUN_DIR")->required(), "the run to repeat")(
      "runs-dir", po::value<std::string>()->value_name("DIR"), "where the new run goes (default: beside the original)")(
      "match-kernels", "pin the CPU kernels the run chose where this machine would choose others");
  add_allow_options(options);
  add_rehash_option(options);
  add_color_option(options);
  add_tolerance_flags(options);
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  const bool json = vm.count("json") > 0;

  const RunData original = read_run(vm["run-dir"].as<std::string>());
  RerunOptions opts;
  if (vm.count("runs-dir")) opts.runs_dir = vm["runs-dir"].as<std::string>();
  set_allow_options(vm, &opts);
  opts.rehash = rehash_from(vm);
  opts.match_kernels = vm.count("match-kernels") > 0;
  const Tolerance tolerance = tolerance_from_flags(vm, tolerance_of(original.header.config()));

  proto::ComparisonReport report = rerun_and_compare(original, opts, tolerance);
  report.set_summary(with_flag_names(report.summary()));
  std::cout << (json ? to_json(report) : format_report(report, use_color(vm)));
  // A refusal ran nothing: the input is not what was recorded, as for `repro trace`.
  const bool refused = report.verdict() == proto::INCOMPARABLE && report.run_b().empty();
  return refused ? kExitBadInput : exit_code_of(report);
}

}  // namespace repro::cli
