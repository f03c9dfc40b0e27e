// repro run: train from a config, deterministically, and record the run; or run a user's own
// program as a recorded run (`repro run -- PROGRAM ARGS...`).
#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "options.h"
#include "outcome.h"
#include "repro/determinism.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/launch.h"
#include "repro/record.h"
#include "repro/trainer.h"

namespace repro::cli {
namespace {

// The master seed of --seed: a positive integer.
std::uint64_t seed_from(const po::variables_map& vm) {
  const std::string text = vm["seed"].as<std::string>();
  const bool digits = !text.empty() && text.size() <= 20 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  std::uint64_t seed = 0;
  try {
    if (digits) seed = std::stoull(text);
  } catch (const std::exception&) {
    seed = 0;
  }
  if (seed == 0) throw Error::usage("--seed: '" + text + "' is not a positive integer");
  return seed;
}

// `repro run --json`'s one object.
void print_launch_json(const std::string& run_dir, const std::string& status, const std::string& reason,
                       int exit_code) {
  google::protobuf::Struct result;
  (*result.mutable_fields())["run_dir"].set_string_value(run_dir);
  (*result.mutable_fields())["status"].set_string_value(status);
  (*result.mutable_fields())["reason"].set_string_value(reason);
  (*result.mutable_fields())["exit_code"].set_number_value(exit_code);
  std::cout << to_json(result);
}

// Prints what a launched program or job recorded; returns its exit status.
int report_launch(const po::variables_map& vm, const std::string& what, const LaunchResult& launched) {
  const bool json = vm.count("json") > 0;
  if (launched.run_dir.empty()) {  // another node's launcher of a job: rank 0 records the run on node 0
    if (!launched.failed.empty()) {
      std::cerr << "repro run: " << launched.failed << "\n";
    } else if (launched.exit_code == 0) {
      std::cerr << "repro run: the ranks of this node finished; node 0 records the run\n";
    }
    if (json) {
      print_launch_json("", launched.exit_code == 0 ? "finished" : "failed", launched.failed, launched.exit_code);
    }
    return launched.exit_code;
  }
  const RunData run = read_run(launched.run_dir);
  const std::string status = run.status == proto::FINISHED      ? "finished"
                             : run.status == proto::INTERRUPTED ? "interrupted"
                             : run.status == proto::RUNNING     ? "running"
                                                                : "failed";
  if (json) {
    print_launch_json(launched.run_dir, status, run.header.status_reason(), launched.exit_code);
  } else {
    if (launched.exit_code != 0) {
      std::cerr << "repro run: "
                << (launched.failed.empty() ? what + " exited with status " + std::to_string(launched.exit_code)
                                            : launched.failed)
                << " (run " << status << (run.header.status_reason().empty() ? "" : ": " + run.header.status_reason())
                << ")\n";
    }
    std::cout << launched.run_dir << "\n";
  }
  return launched.exit_code;
}

LaunchOptions launch_options(const po::variables_map& vm) {
  LaunchOptions options;
  if (vm.count("runs-dir")) options.runs_dir = vm["runs-dir"].as<std::string>();
  options.stdout_to_stderr = vm.count("json") > 0;
  options.rehash = rehash_from(vm);
  set_distributed_options(vm, &options);
  return options;
}

int run_program(const po::variables_map& vm, const Args& command) {
  LaunchOptions options = launch_options(vm);
  if (vm.count("set")) options.sets = vm["set"].as<std::vector<std::string>>();
  if (vm.count("seed")) options.seed = seed_from(vm);
  return report_launch(vm, command[0], launch_program(command, options));
}

// `repro run --nproc N --config FILE ...`: N ranks of `repro run --config FILE ...`, each the
// built-in trainer in a process of its own; rank 0 records into the run directory chosen here.
int run_job(const po::variables_map& vm, const Args& ours, const proto::RunConfig& config) {
  LaunchOptions options = launch_options(vm);
  if (!vm.count("runs-dir")) options.runs_dir = config.record().runs_dir();
  options.run_name = config_run_name(config);
  Args command{"run"};
  for (const auto& a : without_distributed_flags(ours)) command.push_back(a);
  return report_launch(vm, "repro run", launch_self(command, options));
}

}  // namespace

int run_run(const Args& args) {
  const CommandSpec spec{
      "run",
      "repro run --config FILE [--set path=value]... [--seed N] [--runs-dir DIR] [--rehash] [--json] [JOB]\n"
      "       repro run [--set path=value]... [--seed N] [--runs-dir DIR] [--rehash] [--json] [JOB] -- PROGRAM "
      "[ARGS...]\n"
      "  JOB: [--nproc N] [--nnodes M --node-rank R --master-addr HOST --master-port P] [--dist-timeout S]",
      "Trains the model of a config with the built-in trainer, deterministically: one master\n"
      "seed, deterministic algorithms, pinned threads (and CPU kernels, when the config pins\n"
      "them: the process then re-executes itself with ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA\n"
      "set). The run is recorded in <runs-dir>/<run id>; its path is printed last.\n"
      "Exit: 0 finished, 1 the run failed, 2 bad config, flag or data, 4 an I/O or resource failure\n"
      "(no space for a checkpoint or the record, out of memory: the run is recorded as failed and its\n"
      "path is not printed), 130 interrupted.\n\n"
      "With -- PROGRAM ARGS...: runs your own program (one that records through a repro::Session)\n"
      "as a recorded run. Everything after -- goes to it untouched; a PROGRAM without '/' is looked\n"
      "up on PATH. Its Session records into <runs-dir>/<run id> (REPRO_RUN_DIR), takes --seed as\n"
      "its master seed (REPRO_SEED) and applies the --set assignments to its config (REPRO_SET):\n"
      "--set params.lr=0.01 is what session.param(\"lr\", ...) returns, recorded as an override.\n"
      "Its stdout and stderr pass through (with --json its stdout goes to stderr); the run\n"
      "directory is printed last. `repro rerun` of the run relaunches it with the same seed and\n"
      "assignments. Exit: the program's exit status; 2 when PROGRAM does not exist or is not\n"
      "executable, or a flag is bad (nothing is started); 3 when it exited without recording a run.\n\n"
      "With --nproc N (data-parallel, repro/distributed.h): starts N ranks on this machine, like\n"
      "torchrun: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT (a free port) set, each\n"
      "rank's output on stderr as \"[rank R] ...\". Rank 0 records the run directory, rank r its own\n"
      "inside it (ranks/<r>). When a rank fails the others are stopped, and the exit status is that\n"
      "rank's, named. Several machines: one launcher on each, with the same --nproc, --nnodes,\n"
      "--master-addr (node 0's address) and --master-port, and --node-rank 0..M-1."};
  // Everything after the first "--" is the program's, never parsed here.
  const auto dashes = std::find(args.begin(), args.end(), "--");
  const Args ours(args.begin(), dashes);
  const Args command = dashes == args.end() ? Args{} : Args(dashes + 1, args.end());
  const bool program = dashes != args.end();

  po::options_description options("options");
  options.add_options()("config", po::value<std::string>()->value_name("FILE"),
                        "run config in protobuf text format (see models/configs/); not with -- PROGRAM")(
      "set", po::value<std::vector<std::string>>()->value_name("PATH=VALUE")->composing(),
      "override a config field, e.g. --set optimizer.lr=0.05, or a program's parameter, --set params.lr=0.01 "
      "(repeatable)")("seed", po::value<std::string>()->value_name("N"),
                      "the master seed (a positive integer; default: the config's seed, 0 drawing one)")(
      "runs-dir", po::value<std::string>()->value_name("DIR"),
      "where to create the run directory (default: record.runs_dir of the config, \"runs\")");
  add_rehash_option(options);
  add_distributed_options(options);
  po::variables_map vm;
  if (!parse_command(spec, options, {}, ours, vm)) return kExitOk;
  if (program) {
    if (vm.count("config")) throw Error::usage("repro run: --config is for the built-in trainer, not with -- PROGRAM");
    if (command.empty()) throw Error::usage("repro run: no program after -- (repro run -- PROGRAM ARGS...)");
    return run_program(vm, command);
  }
  if (!vm.count("config")) {
    throw Error::usage("repro run: give --config FILE, or -- PROGRAM ARGS... (see 'repro run --help')");
  }
  std::vector<std::string> overrides;
  if (vm.count("set")) overrides = vm["set"].as<std::vector<std::string>>();
  if (vm.count("seed")) overrides.push_back("seed=" + std::to_string(seed_from(vm)));
  const proto::RunConfig config = load_config(vm["config"].as<std::string>(), overrides);
  if (LaunchOptions job; set_distributed_options(vm, &job)) return run_job(vm, ours, config);
  if (const auto pins = missing_pins(config.determinism()); !pins.empty()) reexecute_with_pins(pins);

  SessionOptions session;
  session.origin = "repro run";
  session.track_argv = false;  // the config names the data; its file is recorded as the config
  session.rehash = rehash_from(vm);
  if (vm.count("runs-dir")) session.runs_dir = vm["runs-dir"].as<std::string>();
  return report_outcome("run", train(config, session), vm.count("json") > 0);
}

}  // namespace repro::cli
