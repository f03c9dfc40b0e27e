#include "util/child.h"

#include <filesystem>
#include <iterator>
#include <system_error>

#include "repro/error.h"
#include "util/env_names.h"
#include "util/process.h"
#include "util/strings.h"

namespace repro::internal {

namespace fs = std::filesystem;

const std::string& self_executable() {
  // A throwing initialiser leaves the static uninitialised: the next call tries again.
  static const std::string path = [] {
    std::error_code ec;
    const fs::path p = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error::internal("/proc/self/exe: cannot read this executable's path: " + ec.message());
    return p.string();
  }();
  return path;
}

std::string repro_binary_or_self(const std::string& configured, const std::string& option) {
  if (configured.empty()) return self_executable();
  require_executable(configured, option);
  return configured;
}

std::vector<std::string> repro_run_argv(const std::string& repro_binary, const std::string& config_file,
                                        const std::vector<std::string>& sets) {
  std::vector<std::string> argv = {repro_binary, "run", "--config", config_file};
  for (const auto& s : sets) argv.insert(argv.end(), {"--set", s});
  return argv;
}

std::map<std::string, std::string> child_environment(const ChildEnvironment& spec) {
  if (spec.run_dir.empty()) throw Error::internal("child_environment: no run directory");
  auto env = current_environment();
  if (spec.drop) {
    for (auto it = env.begin(); it != env.end();) it = spec.drop(it->first) ? env.erase(it) : std::next(it);
  }
  for (const char* name : {kEnvReexecuted, kEnvRunId, kEnvSeed, kEnvSet, kEnvLauncher}) env.erase(name);
  // A child may run in another working directory (a program in its recorded cwd): a relative
  // run directory would land under it.
  env[kEnvRunDir] = fs::absolute(spec.run_dir).lexically_normal().string();
  if (!spec.rerun_of.empty()) env[kEnvRerunOf] = spec.rerun_of;
  if (!spec.run_id.empty()) env[kEnvRunId] = spec.run_id;
  if (spec.seed) env[kEnvSeed] = std::to_string(*spec.seed);
  if (!spec.sets.empty()) env[kEnvSet] = join(spec.sets, "\n");
  if (!spec.launcher.empty()) env[kEnvLauncher] = spec.launcher;
  for (const auto& [name, value] : spec.set) env[name] = value;
  return env;
}

}  // namespace repro::internal
