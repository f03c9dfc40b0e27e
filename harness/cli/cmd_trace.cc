// repro trace: re-execute a divergent step with op tracing and name the first op where two
// runs part (repro/trace.h).
#include <iostream>
#include <optional>

#include "options.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/trace.h"

namespace repro::cli {

int run_trace(const Args& args) {
  const CommandSpec spec{
      "trace",
      "repro trace RUN_A [RUN_B] [--step K] [--rank R] [--knobs] [--dump] [--json]\n"
      "                  [--allow-data-change] [--allow-model-change] [--allow-changed-code]",
      "Re-executes runs in fresh processes (as `repro rerun` does) with every ATen op of one step\n"
      "recorded — forward, backward and optimizer step, inputs and outputs digested — and the state\n"
      "entering the step (parameters, optimizer, RNG, batch). Step K is the first divergent step of\n"
      "the two records unless --step says. The two op streams are aligned and the report names the\n"
      "first difference: the state entering K differs (the cause lies before K), an op with identical\n"
      "inputs and different outputs (non-deterministic), an op whose inputs differ though no earlier\n"
      "output did (state from outside ATen: an unseeded RNG, uninitialised memory, data), or the\n"
      "first op where the sequences differ. When the records part at K but the state entering K\n"
      "already differs (and no --step was given), earlier steps are bisected on their entering\n"
      "state and the last step that entered alike is reported. With one run and --step, the run\n"
      "is executed twice.\n"
      "--knobs also re-executes run A's step with one numerics setting changed at a time (those\n"
      "that differ between the runs, else intra/inter-op threads, deterministic algorithms, CPU\n"
      "capability) and names the setting that makes it compute run B's numbers.\n"
      "--dump traces one run's step K and prints its op stream, one line per op.\n"
      "A data-parallel run (repro run --nproc N) is re-executed with all its ranks; rank R (default\n"
      "0) is traced, its collectives recorded as ops (c10d::allreduce, c10d::broadcast). A collective\n"
      "whose inputs are the same and whose result differs is named: another rank's values differ;\n"
      "trace that rank with --rank.\n"
      "Traces are kept in <run>/traces/step-K*[-rankR].trace. Each re-execution runs steps 0..K only.\n"
      "Exit: 0 the step is the same in both, 1 a difference was found, 2 bad input."};
  po::options_description options("options");
  options.add_options()("run-a", po::value<std::string>()->value_name("RUN_A"), "the run")(
      "run-b", po::value<std::string>()->value_name("RUN_B"), "the run it is compared with")(
      "step", po::value<int64_t>()->value_name("K"), "the step to trace (default: first divergent step)")(
      "rank", po::value<int>()->value_name("R"), "the rank of a data-parallel run to trace (default 0)")(
      "knobs", "also find which numerics setting flips the step's bits")(
      "dump", "trace RUN_A's step K and print its op stream");
  add_allow_options(options);
  po::positional_options_description positional;
  positional.add("run-a", 1).add("run-b", 1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  if (!vm.count("run-a")) throw Error::usage("repro trace: needs a run directory (see 'repro trace --help')");
  const bool json = vm.count("json") > 0;
  TraceOptions opts;
  if (vm.count("step")) {
    opts.step = vm["step"].as<int64_t>();
    if (opts.step < 0) throw Error::usage("--step: " + std::to_string(opts.step) + " is negative");
  }
  if (vm.count("rank")) {
    opts.rank = vm["rank"].as<int>();
    if (opts.rank < 0) throw Error::usage("--rank: " + std::to_string(opts.rank) + " is negative");
  }
  opts.knobs = vm.count("knobs") > 0;
  set_allow_options(vm, &opts);
  const RunData a = read_run(vm["run-a"].as<std::string>());

  if (vm.count("dump")) {
    if (vm.count("run-b") || opts.knobs) throw Error::usage("--dump: traces one run; give no RUN_B and no --knobs");
    if (opts.step < 0) throw Error::usage("--dump: needs --step K");
    std::string file;
    const proto::Trace trace = trace_one(a, opts.step, opts, &file);
    std::cout << (json ? to_json(trace) : format_trace(trace) + "trace: " + file + "\n") << std::flush;
    return kExitOk;
  }
  std::optional<RunData> b;
  if (vm.count("run-b")) b = read_run(vm["run-b"].as<std::string>());
  const proto::TraceReport report = trace_runs(a, b ? &*b : nullptr, opts);
  std::cout << (json ? to_json(report) : format_trace_report(report)) << std::flush;
  return report.verdict() == proto::SAME ? kExitOk : kExitCheckFailed;
}

}  // namespace repro::cli
