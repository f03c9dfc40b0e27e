#include "options.h"

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>

#include "repro/config.h"
#include "repro/distributed.h"
#include "repro/error.h"
#include "repro/log.h"
#include "util/env_names.h"
#include "util/exact.h"
#include "util/strings.h"

namespace repro::cli {

bool parse_command(const CommandSpec& spec, po::options_description& options,
                   const po::positional_options_description& positional, const Args& args, po::variables_map& vm,
                   bool json) {
  options.add_options()("help,h", "show this help and exit")(
      "log-level", po::value<std::string>()->value_name("LEVEL"),
      "trace, debug, info, warn, error, critical or off (default: $REPRO_LOG_LEVEL, else info)");
  if (json) options.add_options()("json", "print the result as JSON (protobuf's JSON mapping)");
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << spec.synopsis << "\n\n" << spec.summary << "\n\n" << options << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error::usage("repro " + spec.name + ": " + e.what() + " (see 'repro " + spec.name + " --help')");
  }
  if (vm.count("log-level")) set_log_level(vm["log-level"].as<std::string>());
  return true;
}

std::string with_flag_names(const std::string& message) {
  static const std::map<std::string, std::string> kFlags = {
      {"CheckOptions::baseline_dir", "--baseline"},
      {"CheckOptions::jobs", "-j"},
      {"CheckOptions::runs", "--runs"},
      {"CheckOptions::update_baseline", "--update-baseline"},
      {"RerunOptions::allow_changed_code", "--allow-changed-code"},
      {"RerunOptions::allow_data_change", "--allow-data-change"},
      {"RerunOptions::allow_model_change", "--allow-model-change"},
      {"RerunOptions::match_kernels", "--match-kernels"},
      {"RerunOptions::rehash", "--rehash"},
      {"RerunOptions::runs_dir", "--runs-dir"},
      {"SweepOptions::base_seed", "--seed"},
      {"SweepOptions::jobs", "-j"},
      {"SweepOptions::report_dir", "--report"},
      {"SweepOptions::seeds", "--seeds"},
      {"SweepOptions::sets", "--set"},
      {"SweepOptions::vary", "--vary"},
      {"TraceOptions::allow_changed_code", "--allow-changed-code"},
      {"TraceOptions::allow_data_change", "--allow-data-change"},
      {"TraceOptions::allow_model_change", "--allow-model-change"},
      {"TraceOptions::knobs", "--knobs"},
      {"TraceOptions::step", "--step"},
  };
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::string out;
  std::size_t from = 0;
  for (std::size_t colons; (colons = message.find("::", from)) != std::string::npos;) {
    std::size_t begin = colons, end = colons + 2;
    while (begin > from && word(message[begin - 1])) --begin;
    while (end < message.size() && word(message[end])) ++end;
    const auto it = kFlags.find(message.substr(begin, end - begin));
    out += message.substr(from, begin - from) + (it != kFlags.end() ? it->second : message.substr(begin, end - begin));
    from = end;
  }
  return out + message.substr(from);
}

void add_color_option(po::options_description& options) {
  options.add_options()("no-color",
                        "no colour in the text output (none either when NO_COLOR is set or off a terminal)");
}

bool use_color(const po::variables_map& vm) {
  if (vm.count("no-color")) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return isatty(STDOUT_FILENO) != 0;
}

void add_config_options(po::options_description& options, bool config_required) {
  auto* config = po::value<std::string>()->value_name("FILE");
  if (config_required) config->required();
  options.add_options()("config", config, "run config in protobuf text format (see models/configs/)")(
      "set", po::value<std::vector<std::string>>()->value_name("PATH=VALUE")->composing(),
      "override a config field, e.g. --set optimizer.lr=0.05 (repeatable)");
}

proto::RunConfig config_from(const po::variables_map& vm) {
  std::vector<std::string> overrides;
  if (vm.count("set")) overrides = vm["set"].as<std::vector<std::string>>();
  return load_config(vm["config"].as<std::string>(), overrides);
}

void add_jobs_option(po::options_description& options) {
  options.add_options()("jobs,j", po::value<int>()->value_name("N")->default_value(1), "child processes at once");
}

int jobs_from(const po::variables_map& vm) { return vm["jobs"].as<int>(); }

void add_allow_options(po::options_description& options) {
  options.add_options()("allow-data-change", "run even if input files changed since the run (the report names them)")(
      "allow-model-change", "run even if the model file (model.torchscript.path) changed since the run")(
      "allow-changed-code", "run even if the program's executable changed since the run");
}

void add_rehash_option(po::options_description& options) {
  options.add_options()("rehash",
                        "read every tracked data file again instead of trusting the digest cache (REPRO_REHASH=1)");
}

bool rehash_from(const po::variables_map& vm) {
  if (vm.count("rehash") == 0) return false;
  // Programs this process starts read it too (a user's program's Session, a rerun's child).
  ::setenv(internal::kEnvRehash, "1", 1);
  return true;
}

namespace {
const char* const kDistributedFlags[] = {"nproc", "nnodes", "node-rank", "master-addr", "master-port", "dist-timeout"};
}

void add_distributed_options(po::options_description& options) {
  options.add_options()("nproc", po::value<int>()->value_name("N"),
                        "data-parallel: start N ranks on this machine (repro/distributed.h; default 1)")(
      "nnodes", po::value<int>()->value_name("M"),
      "data-parallel: the job spans M machines, one launcher each (default 1)")(
      "node-rank", po::value<int>()->value_name("R"), "data-parallel: this machine's place, 0..M-1 (default 0)")(
      "master-addr", po::value<std::string>()->value_name("HOST"),
      "data-parallel: where rank 0 serves the job's store (default 127.0.0.1)")(
      "master-port", po::value<int>()->value_name("P"),
      "data-parallel: its port (default: a free one; needed with --nnodes)")(
      "dist-timeout", po::value<double>()->value_name("S"),
      "data-parallel: seconds a rank waits to join or for a collective before it fails (default 30; also for a rank "
      "started with WORLD_SIZE set)");
}

bool set_distributed_options(const po::variables_map& vm, LaunchOptions* options) {
  if (vm.count("nproc")) options->nproc = vm["nproc"].as<int>();
  if (vm.count("nnodes")) options->nnodes = vm["nnodes"].as<int>();
  if (vm.count("node-rank")) options->node_rank = vm["node-rank"].as<int>();
  if (vm.count("master-addr")) options->master_addr = vm["master-addr"].as<std::string>();
  if (vm.count("master-port")) options->master_port = vm["master-port"].as<int>();
  const bool job = options->nproc != 1 || options->nnodes != 1 || vm.count("node-rank") || vm.count("master-port") ||
                   vm.count("master-addr");
  if (vm.count("dist-timeout")) {
    options->timeout_s = internal::checked_seconds("--dist-timeout", vm["dist-timeout"].as<double>(), kMaxTimeoutS);
    // A rank started with WORLD_SIZE (by torchrun, or a program this process starts) reads it
    // from the environment, like the ranks a launch starts (repro/distributed.h).
    if (!job && !rank_environment().has_value()) {
      throw Error::usage(
          "--dist-timeout: only for a data-parallel job (--nproc, --nnodes, or a rank started with "
          "WORLD_SIZE set)");
    }
    ::setenv(internal::kEnvDistTimeout, internal::shortest_text(options->timeout_s).c_str(), 1);
  }
  return job;
}

Args without_distributed_flags(const Args& args) {
  Args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool ours = false;
    for (const char* flag : kDistributedFlags) {
      const std::string f = std::string("--") + flag;
      if (args[i] == f) {
        ours = true;
        ++i;  // its value
        break;
      }
      if (args[i].rfind(f + "=", 0) == 0) {
        ours = true;
        break;
      }
    }
    if (!ours) out.push_back(args[i]);
  }
  return out;
}

void add_tolerance_flags(po::options_description& options) {
  options.add_options()("rtol", po::value<double>()->value_name("X"),
                        "relative tolerance on losses and metrics (default: the config's check.rtol, 0)")(
      "atol", po::value<double>()->value_name("X"), "absolute tolerance (default: the config's check.atol, 0)")(
      "from-step", po::value<int64_t>()->value_name("N"), "judge only steps >= N (default: check.from_step, 0)");
}

Tolerance tolerance_from_flags(const po::variables_map& vm, Tolerance base) {
  if (vm.count("rtol")) base.rtol = vm["rtol"].as<double>();
  if (vm.count("atol")) base.atol = vm["atol"].as<double>();
  if (vm.count("from-step")) base.from_step = vm["from-step"].as<int64_t>();
  validate_tolerance("--rtol", base.rtol);
  validate_tolerance("--atol", base.atol);
  validate_from_step("--from-step", base.from_step);
  return base;
}

}  // namespace repro::cli
