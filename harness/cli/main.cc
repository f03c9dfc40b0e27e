// repro: the reprotorch command line. Dispatches to one command per file (cmd_*.cc) and is the
// one place where errors become a message and an exit code.
#include <c10/util/Exception.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <new>
#include <string>

#include "commands.h"
#include "models/models.h"
#include "options.h"
#include "repro/error.h"
#include "repro/log.h"
#include "repro/version.h"

namespace repro::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"run", "train from a config, deterministically, and record the run", run_run},
      {"resume", "continue an interrupted or failed run from its newest checkpoint", run_resume},
      {"export", "a finished run's weights as a snapshot tied to the run; any run as TensorBoard events", run_export},
      {"show", "print a run record (header, evaluations, steps)", run_show},
      {"ls", "list the runs in a runs directory", run_ls},
      {"rerun", "re-execute a recorded run in a fresh process and compare", run_rerun},
      {"compare", "compare two runs: verdict, named causes, first divergent step", run_compare},
      {"check", "nightly: rerun configs, compare with baselines, JUnit report", run_check},
      {"sweep", "run a config over seeds (and a grid of values): statistics, sensitivity, envelope", run_sweep},
      {"doctor", "model health checks: one step, updates, loss trend, fit, NaN/Inf, dead units", run_doctor},
      {"trace", "re-execute a divergent step with op tracing; name the first diverging op", run_trace},
      {"report", "write a static HTML site of runs and their comparisons (opens from file://)", run_report},
      {"env", "show everything in this environment that can change a training result", run_env},
  };
  return kCommands;
}

namespace {

void print_usage(std::ostream& out) {
  out << "usage: repro [--log-level LEVEL] <command> [options]\n"
         "       repro <command> --help\n"
         "       repro --version\n\n"
         "reprotorch makes LibTorch training reproducible and proves it.\n\ncommands:\n";
  for (const auto& c : commands())
    out << "  " << c.name << std::string(10 - std::strlen(c.name), ' ') << c.summary << "\n";
  out << "\nexit codes: 0 success, 1 a check failed or runs diverged, 2 usage or input error, 3 internal error,\n"
         "            4 I/O or resource failure (a write failed, no space, an output that is not a regular file,\n"
         "              standard output unwritable, out of memory)\n";
}

int run(int argc, char** argv) {
  set_log_level("");
  Args args(argv + 1, argv + argc);
  std::size_t i = 0;
  for (; i < args.size() && args[i].rfind("-", 0) == 0; ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      print_usage(std::cout);
      return kExitOk;
    } else if (a == "--version") {
      std::cout << "repro (reprotorch) " << REPRO_VERSION_STRING << "\n";
      return kExitOk;
    } else if (a == "--log-level" && i + 1 < args.size()) {
      set_log_level(args[++i]);
    } else if (a.rfind("--log-level=", 0) == 0) {
      set_log_level(a.substr(12));
    } else {
      throw Error::usage("unknown option '" + a + "' (see 'repro --help')");
    }
  }
  if (i == args.size()) throw Error::usage("no command given (see 'repro --help' for the commands)");
  for (const auto& c : commands()) {
    if (args[i] == c.name) return c.run(Args(args.begin() + static_cast<long>(i) + 1, args.end()));
  }
  throw Error::usage("unknown command '" + args[i] + "' (see 'repro --help' for the list)");
}

}  // namespace
}  // namespace repro::cli

namespace {

// What the command printed must have reached stdout: `repro ls > /dev/full` is an I/O failure,
// not a success. Returns `code`, or kExitIo with one line on stderr.
int check_stdout(int code) {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout.good() || std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (!failed) return code;
  const int err = errno;
  std::cerr << "repro: cannot write to standard output" << (err != 0 ? std::string(": ") + std::strerror(err) : "")
            << "\n";
  return repro::kExitIo;
}

}  // namespace

int main(int argc, char** argv) {
  repro::models::register_builtins();
  try {
    return check_stdout(repro::cli::run(argc, argv));
  } catch (const repro::Error& e) {
    std::cerr << "repro: " << repro::cli::with_flag_names(e.what()) << "\n";
    return e.exit_code();
  } catch (const std::bad_alloc& e) {
    std::cerr << "repro: out of memory: " << e.what() << "\n";
    return repro::kExitIo;
  } catch (const std::filesystem::filesystem_error& e) {
    // An I/O failure that no caller turned into a repro::Error: still exit 4, naming the path.
    std::cerr << "repro: " << e.path1().string() << ": " << e.code().message() << "\n";
    return repro::kExitIo;
  } catch (const c10::Error& e) {
    std::cerr << "repro: internal error: " << e.what_without_backtrace() << "\n";
    return repro::kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "repro: internal error: " << e.what() << "\n";
    return repro::kExitInternal;
  }
}
