// Private: the command line of a user's program that `repro check` and `repro sweep` launch
// (a program wrapped with repro::Session), resolved and checked before anything runs.
#pragma once

#include <string>
#include <vector>

namespace repro::internal {

// `command` with its program (command[0]) made an absolute path: an absolute path stays; a
// bare name (no '/') is looked up on PATH, then in `base_dir`; any other relative path is taken
// from `base_dir` (the suite file's directory for check, the working directory for sweep). The
// arguments are left as they are. Throws Error (input) naming `what` and the program when
// `command` is empty, the program cannot be found, or it is not an executable regular file.
std::vector<std::string> resolve_command(const std::vector<std::string>& command, const std::string& base_dir,
                                         const std::string& what);

}  // namespace repro::internal
