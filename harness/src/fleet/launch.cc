#include "repro/launch.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <system_error>

#include "fleet/rank_launch.h"
#include "proto/run_config.pb.h"
#include "repro/config.h"
#include "repro/distributed.h"
#include "repro/error.h"
#include "run/run_identity.h"
#include "util/child.h"
#include "util/env_names.h"
#include "util/fileutil.h"
#include "util/process.h"
#include "util/strings.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// The program as execve takes it: a name without '/' looked up on PATH as a shell would.
std::string program_path(const std::string& program) {
  if (program.empty()) throw Error::usage("PROGRAM: empty program name");
  if (program.find('/') != std::string::npos) {
    internal::require_executable(program, "PROGRAM");
    return program;
  }
  const std::string found = internal::find_on_path(program);
  if (found.empty())
    throw Error::input("PROGRAM: " + program + " not found on PATH (give a path, e.g. ./" + program + ")");
  return found;
}

}  // namespace

LaunchResult launch_program(const std::vector<std::string>& command, const LaunchOptions& options) {
  if (command.empty()) throw Error::usage("no program to run (give it after --: repro run -- PROGRAM ARGS...)");
  if (options.seed && *options.seed == 0) throw Error::usage("LaunchOptions::seed: must be > 0 (got 0)");
  {
    proto::RunConfig check;  // the assignments' syntax and field paths, before anything starts
    for (const auto& s : options.sets) {
      // REPRO_SET holds one assignment a line.
      if (s.find('\n') != std::string::npos)
        throw Error::usage("--set " + s.substr(0, s.find('\n')) + "...: a newline in an assignment");
      apply_override(&check, s);
    }
  }
  if (options.runs_dir.empty()) throw Error::usage("LaunchOptions::runs_dir: must not be empty");
  if (options.nproc < 1 || options.nproc > 1024) {
    throw Error::usage("--nproc: " + std::to_string(options.nproc) + " is not a number of ranks in 1..1024");
  }
  if (options.nnodes < 1 || options.nnodes > 1024) {
    throw Error::usage("--nnodes: " + std::to_string(options.nnodes) + " is not a number of machines in 1..1024");
  }
  if (options.node_rank < 0 || options.node_rank >= options.nnodes) {
    throw Error::usage("--node-rank: " + std::to_string(options.node_rank) + " is not in 0.." +
                       std::to_string(options.nnodes - 1));
  }
  if (options.nnodes > 1 && options.master_port == 0) {
    throw Error::usage("--master-port: needed with --nnodes " + std::to_string(options.nnodes) +
                       " (every node's launcher must name the same port)");
  }
  if (options.master_port < 0 || options.master_port > 65535) {
    throw Error::usage("--master-port: " + std::to_string(options.master_port) + " is not a port in 1..65535");
  }
  internal::checked_seconds("--dist-timeout", options.timeout_s, kMaxTimeoutS);
  const bool job = options.nproc > 1 || options.nnodes > 1;
  internal::ChildSpec child;
  child.argv = command;
  child.argv[0] = program_path(command[0]);
  if (options.stdout_to_stderr) child.stdout_path = "-2";

  // Rank 0, on node 0, records the job; another node's ranks write under rank 0's directory, so
  // that node's launcher makes none.
  const bool records_here = !(job && options.node_rank > 0);
  std::error_code ec;
  const bool runs_dir_existed = !options.run_dir.empty() || fs::exists(options.runs_dir, ec);
  if (options.run_dir.empty() && records_here) internal::make_directories(options.runs_dir);
  // A new run's id is the name chosen here for its directory (a resumed one keeps its own).
  std::string run_id, run_dir = options.run_dir;
  if (run_dir.empty()) {
    run_id =
        internal::make_run_id(options.run_name.empty() ? fs::path(command[0]).filename().string() : options.run_name);
    run_dir = options.runs_dir + "/" + run_id;
  }
  internal::ChildEnvironment env;
  env.run_dir = run_dir;
  env.run_id = run_id;
  env.seed = options.seed;
  env.sets = options.sets;
  env.launcher = options.launcher;
  if (options.rehash) env.set[internal::kEnvRehash] = "1";
  child.env = internal::child_environment(env);
  spdlog::debug("launching {} into {}", child.argv[0], run_dir);

  LaunchResult result;
  // A Ctrl-C reaches the program too: it records its run as interrupted; we wait and report.
  struct sigaction ignore {
  }, old_int{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGINT, &ignore, &old_int);
  if (job) {
    LaunchOptions layout = options;
    if (layout.master_port == 0) layout.master_port = internal::free_local_port();
    result.exit_code = internal::run_ranks(child, layout, &result.failed);
  } else {
    result.exit_code = internal::wait_child(internal::spawn(child));
  }
  sigaction(SIGINT, &old_int, nullptr);
  if (!records_here) return result;
  if (!fs::exists(fs::path(run_dir) / "record.pb")) {
    if (!options.run_dir.empty()) throw Error::internal(run_dir + ": no run record after the launch");
    // Nothing left behind that looks like a run: an empty run directory goes, and the runs
    // directory too when this call made it (fs::remove leaves a directory that is not empty).
    fs::remove(run_dir, ec);
    if (!runs_dir_existed) fs::remove(options.runs_dir, ec);
    if (!result.failed.empty()) {  // a job that ended before rank 0 recorded: name the rank
      const std::string why = "the job ended before it recorded a run: " + result.failed;
      if (result.exit_code == kExitBadInput) throw Error::usage(why);
      if (result.exit_code == kExitIo) throw Error::io(why);
      throw Error::internal(why);
    }
    throw Error::internal(command[0] + " exited with status " + std::to_string(result.exit_code) +
                          " without recording a run in " + run_dir + " (does it construct a repro::Session?)");
  }
  result.run_dir = run_dir;
  return result;
}

LaunchResult launch_self(const std::vector<std::string>& args, const LaunchOptions& options) {
  std::vector<std::string> command{internal::self_executable()};
  command.insert(command.end(), args.begin(), args.end());
  return launch_program(command, options);
}

}  // namespace repro
