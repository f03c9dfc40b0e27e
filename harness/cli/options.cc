#include "options.h"

#include <iostream>

#include "repro/config.h"
#include "repro/error.h"
#include "repro/log.h"

namespace repro::cli {

bool parse_command(const CommandSpec& spec, po::options_description& options,
                   const po::positional_options_description& positional, const Args& args,
                   po::variables_map& vm, bool json) {
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

void add_config_options(po::options_description& options) {
  options.add_options()("config", po::value<std::string>()->value_name("FILE")->required(),
                        "run config in protobuf text format (see models/configs/)")(
      "set", po::value<std::vector<std::string>>()->value_name("PATH=VALUE")->composing(),
      "override a config field, e.g. --set optimizer.lr=0.05 (repeatable)");
}

proto::RunConfig config_from(const po::variables_map& vm) {
  std::vector<std::string> overrides;
  if (vm.count("set")) overrides = vm["set"].as<std::vector<std::string>>();
  return load_config(vm["config"].as<std::string>(), overrides);
}

}  // namespace repro::cli
