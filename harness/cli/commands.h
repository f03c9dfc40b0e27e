// The subcommands of `repro`. Each lives in its own cmd_<name>.cc, parses its flags with
// options.h, calls the library, and formats the result. No logic a library user would need.
#pragma once

#include <string>
#include <vector>

namespace repro::cli {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);  // returns the exit code; throws repro::Error on bad input
};

// All commands, in the order `repro --help` lists them.
const std::vector<Command>& commands();

int run_env(const Args& args);
int run_run(const Args& args);
int run_resume(const Args& args);
int run_export(const Args& args);
int run_show(const Args& args);
int run_ls(const Args& args);
int run_compare(const Args& args);
int run_rerun(const Args& args);
int run_check(const Args& args);
int run_sweep(const Args& args);
int run_doctor(const Args& args);
int run_trace(const Args& args);
int run_report(const Args& args);

}  // namespace repro::cli
