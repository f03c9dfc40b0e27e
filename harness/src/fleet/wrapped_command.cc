#include "fleet/wrapped_command.h"

#include <filesystem>
#include <system_error>

#include "repro/error.h"
#include "util/process.h"

namespace repro::internal {

namespace fs = std::filesystem;

std::vector<std::string> resolve_command(const std::vector<std::string>& command, const std::string& base_dir,
                                         const std::string& what) {
  if (command.empty() || command[0].empty()) throw Error::input(what + ": no program given");
  std::vector<std::string> resolved = command;
  const fs::path program = command[0];
  fs::path path;
  if (program.is_absolute()) {
    path = program;
  } else if (command[0].find('/') == std::string::npos) {
    path = find_on_path(command[0]);
    if (path.empty()) {
      path = fs::path(base_dir) / program;
      std::error_code ec;
      if (!fs::exists(path, ec)) {
        throw Error::input(what + ": " + command[0] + " is neither on PATH nor in " + base_dir);
      }
    }
  } else {
    path = fs::path(base_dir) / program;
  }
  path = fs::absolute(path).lexically_normal();
  require_executable(path.string(), what);
  resolved[0] = path.string();
  return resolved;
}

}  // namespace repro::internal
