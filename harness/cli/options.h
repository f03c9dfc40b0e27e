// Flag parsing shared by every command (Boost.Program_options).
#pragma once

#include <boost/program_options.hpp>

#include <string>

#include "commands.h"

namespace repro::cli {

namespace po = boost::program_options;

// Describes one command for parsing and for its --help.
struct CommandSpec {
  std::string name;      // "env"
  std::string synopsis;  // "repro env [--json] [--verify FILE]"
  std::string summary;   // one paragraph for --help
};

// Parses `args` for a command. Adds --help and --log-level (and --json when `json` is true) to
// `options`. Returns false when --help was given (the help is printed to stdout); the command
// then returns kExitOk. Throws Error (usage) with one line naming the bad flag or value.
bool parse_command(const CommandSpec& spec, po::options_description& options,
                   const po::positional_options_description& positional, const Args& args,
                   po::variables_map& vm, bool json = true);

}  // namespace repro::cli
