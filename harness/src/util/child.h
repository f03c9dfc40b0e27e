// Private: the one way the harness starts a child `repro run` or a user's program (rerun,
// check, sweep, trace): which executable, which command line, which environment. Starting and
// waiting is util/process.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace repro::internal {

// This executable's path (/proc/self/exe resolved), read once. Throws Error (internal) naming
// /proc/self/exe when it cannot be read.
const std::string& self_executable();

// The `repro` binary a child runs: `configured` when not empty (checked with
// require_executable in util/process.h, the Error naming `option`, e.g.
// "CheckOptions::repro_binary"), else this executable.
std::string repro_binary_or_self(const std::string& configured, const std::string& option);

// The command line `<repro_binary> run --config <config_file> [--set <s>]...`.
std::vector<std::string> repro_run_argv(const std::string& repro_binary, const std::string& config_file,
                                        const std::vector<std::string>& sets);

// What a child's environment adds to ours.
struct ChildEnvironment {
  // REPRO_RUN_DIR: the directory the child records its run into (required); passed absolute,
  // so that a child started in another working directory records where we look.
  std::string run_dir;
  std::string rerun_of;  // REPRO_RERUN_OF when not empty: the run id the child repeats
  std::string run_id;    // REPRO_RUN_ID when not empty: the id it records (run_dir's name)
  // Our variables for which this is true are left out (rerun: the numerics variables, whose
  // recorded values then come in `set`). Empty: none.
  std::function<bool(const std::string& name)> drop;
  std::map<std::string, std::string> set;  // set last, over everything above
  // Launching a user's program (Session reads these): REPRO_SEED when set, REPRO_SET (the
  // assignments, one per line) when not empty, REPRO_LAUNCHER ("repro run") when not empty.
  // Ours are dropped first, so a child never inherits a launcher's seed or overrides.
  std::optional<std::uint64_t> seed;
  std::vector<std::string> sets;
  std::string launcher;
};

// This process's environment without REPRO_REEXECUTED (a child applies its own CPU-kernel pins,
// re-executing itself when it must), REPRO_RUN_ID, REPRO_SEED, REPRO_SET and REPRO_LAUNCHER,
// without what `spec.drop` says, with REPRO_RUN_DIR, REPRO_RERUN_OF, REPRO_RUN_ID, the launch
// variables above and `spec.set`. Throws Error (internal) when run_dir is empty.
std::map<std::string, std::string> child_environment(const ChildEnvironment& spec);

}  // namespace repro::internal
