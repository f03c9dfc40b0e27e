// repro env: show everything in this environment that can change a training result.
#include <iostream>
#include <string>
#include <vector>

#include "options.h"
#include "repro/config.h"
#include "repro/determinism.h"
#include "repro/environment.h"
#include "repro/error.h"

namespace repro::cli {

int run_env(const Args& args) {
  const CommandSpec spec{
      "env", "repro env [--json] [--verify LOCK_FILE] [--portable-check [--config FILE] [--set PATH=VALUE]...]",
      "Captures and prints everything in this environment that can change the numbers a training\n"
      "run produces: LibTorch version and build, the CPU kernels (ISA) in use, the BLAS, LAPACK,\n"
      "OpenMP and oneDNN libraries loaded, thread counts and why, numerics variables, compiler,\n"
      "OS, CPU, cgroup limits, CUDA, locked package versions and this executable's digest.\n"
      "With --verify, compares installed package versions with LOCK_FILE instead and exits 1\n"
      "when any differs.\n"
      "With --portable-check, lists the CPU-kernel choices of a run here (with the default\n"
      "determinism settings, or those of --config and --set) that another x86-64 machine\n"
      "may make otherwise, each with the pin that fixes it; exits 1 when any varies or is limited."};
  po::options_description options("options");
  options.add_options()("verify", po::value<std::string>()->value_name("LOCK_FILE"),
                        "check installed Debian packages against LOCK_FILE (e.g. environment.lock)")(
      "portable-check", "list what would give other bits on another x86-64 machine (with --config/--set: that run's)");
  add_config_options(options, false);
  po::variables_map vm;
  if (!parse_command(spec, options, {}, args, vm)) return kExitOk;
  const bool json = vm.count("json") > 0;

  if (vm.count("verify") && (vm.count("portable-check") || vm.count("config") || vm.count("set"))) {
    throw Error::usage("--verify goes alone: --portable-check, --config and --set are another check");
  }
  if (vm.count("verify")) {
    const auto check = verify_lock_file(vm["verify"].as<std::string>());
    if (json) {
      std::cout << to_json(check);
    } else if (check.matches()) {
      std::cout << check.lock_path() << ": every locked package is installed at its locked version\n";
    } else {
      std::cout << check.lock_path() << ": " << check.mismatches_size() << " package(s) differ from the lock\n";
      std::size_t width = 7;
      for (const auto& m : check.mismatches()) width = std::max(width, m.name().size());
      std::cout << "  " << std::string("package") + std::string(width - 7, ' ') << "  locked -> installed\n";
      for (const auto& m : check.mismatches()) {
        std::cout << "  " << m.name() << std::string(width - m.name().size(), ' ') << "  " << m.locked() << " -> "
                  << (m.installed().empty() ? "(not installed)" : m.installed()) << "\n";
      }
    }
    return check.matches() ? kExitOk : kExitCheckFailed;
  }

  if (vm.count("portable-check")) {
    proto::RunConfig config;
    const std::string origin = vm.count("config") ? vm["config"].as<std::string>() : "";
    if (!origin.empty()) {
      config = config_from(vm);
    } else {
      if (vm.count("set")) {
        for (const auto& s : vm["set"].as<std::vector<std::string>>()) apply_override(&config, s);
      }
      resolve_config(&config);
      validate_determinism(config.determinism(), "--set");
    }
    const auto check = check_portability(config.determinism(), capture_environment(), origin);
    std::cout << (json ? to_json(check) : format_portability(check));
    return check.portable() ? kExitOk : kExitCheckFailed;
  }
  if (vm.count("config") || vm.count("set")) throw Error::usage("--config and --set go with --portable-check");

  const auto env = capture_environment();
  std::cout << (json ? to_json(env) : format_environment(env));
  return kExitOk;
}

}  // namespace repro::cli
