// repro/launch.h: run a user's own program as a recorded run (`repro run -- PROGRAM ARGS...`).
//
// The program is any executable whose code records through a repro::Session (repro/session.h);
// the launcher passes what it decides through the environment, which the Session reads:
// REPRO_RUN_DIR (the new run's directory, <runs_dir>/<run id>), REPRO_SEED (the master seed,
// replacing the config's), REPRO_SET (config assignments such as "params.lr=0.01" or
// "train.steps=50", applied by the Session and recorded in RunRecord.overrides; a params one
// makes Session::param report its source as override) and REPRO_LAUNCHER ("repro run",
// recorded as RunRecord.launcher). `repro rerun` of such a run passes its recorded seed and
// overrides again (repro/rerun.h).
//
//   repro::LaunchOptions options;
//   options.sets = {"params.lr=0.01"};
//   const auto launched = repro::launch_program({"./train", "data", "40"}, options);
//   // launched.exit_code: the program's; launched.run_dir: what it recorded
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace repro {

struct LaunchOptions {
  // The run goes to <runs_dir>/<new run id> (named after the program). Default "runs", relative
  // to the working directory; created when missing.
  std::string runs_dir = "runs";
  // REPRO_SEED: the master seed the program's Session uses instead of its config's. Unset
  // (default): the config decides (a config seed 0 draws one, recorded). Must be > 0.
  std::optional<std::uint64_t> seed;
  // REPRO_SET: config assignments "path.to.field=value" (repro/config.h apply_override), in
  // order. Default: none.
  std::vector<std::string> sets;
  // REPRO_LAUNCHER, recorded as the run's launcher. Default "repro run".
  std::string launcher = "repro run";
  // The program's stdout goes to this process's stderr (so that stdout can carry only a JSON
  // result). Default off: both pass through.
  bool stdout_to_stderr = false;
  // REPRO_REHASH=1: the program's Session digests its tracked data again, ignoring the digest
  // cache (repro/data.h). Default off.
  bool rehash = false;
  // Set: the program records (or, resuming, continues) this directory instead of a new
  // <runs_dir>/<run id>. Default empty.
  std::string run_dir;
  // The run is named after this (run id "<date>-<time>-<run_name>-<hex>"); empty (default):
  // the program's file name.
  std::string run_name;

  // Data-parallel jobs (repro/distributed.h), like torchrun: `nproc` ranks on this machine
  // (default 1: one plain process), each started with RANK, WORLD_SIZE (nproc x nnodes),
  // LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and REPRO_DIST_TIMEOUT_S set, its
  // output copied to our stderr line by line as "[rank R] ...". When one rank exits other than
  // 0, the others are stopped (SIGTERM, SIGKILL 3 s later) and the launch returns that exit
  // status with the rank named in LaunchResult::failed. Several machines: one launcher per
  // machine with the same nproc, nnodes and master address and port and its own node_rank;
  // node 0 runs rank 0 and records the run directory (a launcher of another node makes no
  // directory and returns an empty run_dir; its ranks record under rank 0's).
  int nproc = 1;
  int nnodes = 1;
  int node_rank = 0;                      // 0..nnodes-1; ranks node_rank*nproc ... +nproc-1
  std::string master_addr = "127.0.0.1";  // where rank 0 serves the job's store
  int master_port = 0;                    // 0: a free port on this machine (one node only)
  double timeout_s = 30;                  // every wait of a rank; kDefaultTimeoutS
};

struct LaunchResult {
  std::string run_dir;  // the run the program recorded; empty on a node other than 0
  int exit_code = 0;    // the program's exit status (128 + signal number when a signal ended it)
  std::string failed;   // a data-parallel job: the first rank that failed ("rank 1 was killed by signal 9 (SIGKILL)")
};

// Runs `command` (the program, then its arguments, passed untouched; a program name without '/'
// is looked up on PATH) in this working directory with this environment plus the variables
// above (any REPRO_SEED, REPRO_SET and REPRO_LAUNCHER of ours are not passed on), and waits for
// it. While it runs, SIGINT is left to the program (a Ctrl-C reaches both; the program records
// its run as interrupted and its exit status is returned).
// Before anything is written or started: throws Error (usage) for an empty command, seed 0
// (naming LaunchOptions::seed), an assignment apply_override refuses or one with a newline
// (naming it), Error
// (input) when the program does not exist or is not executable (naming it), Error (usage) for
// nproc, nnodes or node_rank out of range, several nodes without a master_port, or a timeout
// <= 0 (naming the option).
// Throws Error (internal) when the program exited without recording a run in its directory
// (it does not use a Session, or failed before constructing it), with its exit status.
LaunchResult launch_program(const std::vector<std::string>& command, const LaunchOptions& options);

// launch_program of this executable (/proc/self/exe) with `args`: how `repro run --nproc N
// --config FILE` starts the built-in trainer's ranks (`repro run --config FILE` each).
LaunchResult launch_self(const std::vector<std::string>& args, const LaunchOptions& options);

}  // namespace repro
