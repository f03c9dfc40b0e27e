// Flag parsing shared by every command (Boost.Program_options), and every flag that more than
// one command takes, declared once: --config/--set, -j, the --allow-* trio, the tolerance
// flags, --no-color.
#pragma once

#include <boost/program_options.hpp>

#include <string>

#include "commands.h"
#include "proto/run_config.pb.h"
#include "repro/compare.h"
#include "repro/launch.h"

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
                   const po::positional_options_description& positional, const Args& args, po::variables_map& vm,
                   bool json = true);

// --no-color: for every command whose text output can have colour (ANSI escapes).
void add_color_option(po::options_description& options);
// The one place that decides whether a command's text on stdout is coloured: never with
// --no-color or when NO_COLOR is set to anything but "" (https://no-color.org), else only when
// stdout is a terminal. Library format functions take the answer as a parameter.
bool use_color(const po::variables_map& vm);

// Library messages name options as the library has them ("SweepOptions::vary",
// "RerunOptions::allow_data_change"); the command line prints them as its flags ("--vary",
// "--allow-data-change"). This is the one table from one to the other: every Xxx::name in
// `message` that a flag sets becomes the flag; anything else stays as it is.
std::string with_flag_names(const std::string& message);

// --config FILE (required unless `config_required` is false: a command that also takes a
// program) and --set PATH=VALUE (repeatable): the config a command works on.
void add_config_options(po::options_description& options, bool config_required = true);
// The config those options name: the file with the overrides applied in order, resolved and
// validated (repro/config.h load_config). Throws Error (usage/input) naming the file or field.
proto::RunConfig config_from(const po::variables_map& vm);

// -j/--jobs N (default 1): child processes at once (check, sweep). The library checks that it
// is at least 1 (CheckOptions::jobs, SweepOptions::jobs).
void add_jobs_option(po::options_description& options);
int jobs_from(const po::variables_map& vm);

// --allow-data-change, --allow-model-change, --allow-changed-code: re-execute a run although its
// data, model file or executable changed since it was recorded (rerun, trace).
void add_allow_options(po::options_description& options);
// Sets the allow_data_change, allow_model_change and allow_changed_code fields of `options`
// (RerunOptions, TraceOptions) from those flags.
template <typename Options>
void set_allow_options(const po::variables_map& vm, Options* options) {
  options->allow_data_change = vm.count("allow-data-change") > 0;
  options->allow_model_change = vm.count("allow-model-change") > 0;
  options->allow_changed_code = vm.count("allow-changed-code") > 0;
}

// --rehash: digest tracked data again, ignoring the digest cache (repro/data.h; run, rerun).
void add_rehash_option(po::options_description& options);
// True when --rehash was given; then REPRO_REHASH=1 is also set in this process's environment,
// so that the programs it starts digest again too.
bool rehash_from(const po::variables_map& vm);

// Data-parallel launch, like torchrun (repro/launch.h, LaunchOptions): --nproc N, --nnodes M,
// --node-rank R, --master-addr HOST, --master-port P, --dist-timeout S.
void add_distributed_options(po::options_description& options);
// Sets those fields of `options` from the flags given; true when the launch is a job (--nproc
// or --nnodes above 1). The library checks the ranges.
bool set_distributed_options(const po::variables_map& vm, LaunchOptions* options);
// `args` without those flags and their values (what each rank is started with).
Args without_distributed_flags(const Args& args);

// --rtol, --atol and --from-step (compare, rerun).
void add_tolerance_flags(po::options_description& options);
// The tolerance: `base` (from a config's check section) with any flag given overriding it.
// Throws Error (usage) for negative values.
Tolerance tolerance_from_flags(const po::variables_map& vm, Tolerance base);

}  // namespace repro::cli
