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
};

struct LaunchResult {
  std::string run_dir;  // the run the program recorded
  int exit_code = 0;    // the program's exit status (128 + signal number when a signal ended it)
};

// Runs `command` (the program, then its arguments, passed untouched; a program name without '/'
// is looked up on PATH) in this working directory with this environment plus the variables
// above (any REPRO_SEED, REPRO_SET and REPRO_LAUNCHER of ours are not passed on), and waits for
// it. While it runs, SIGINT is left to the program (a Ctrl-C reaches both; the program records
// its run as interrupted and its exit status is returned).
// Before anything is written or started: throws Error (usage) for an empty command, seed 0
// (naming LaunchOptions::seed), an assignment apply_override refuses or one with a newline
// (naming it), Error
// (input) when the program does not exist or is not executable (naming it).
// Throws Error (internal) when the program exited without recording a run in its directory
// (it does not use a Session, or failed before constructing it), with its exit status.
LaunchResult launch_program(const std::vector<std::string>& command, const LaunchOptions& options);

}  // namespace repro
