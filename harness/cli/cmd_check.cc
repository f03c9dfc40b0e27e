// repro check: the nightly mode — rerun configs, compare with the first run and with golden
// baselines, JUnit XML and a report directory.
#include <filesystem>
#include <iostream>

#include "options.h"
#include "repro/check.h"
#include "repro/environment.h"
#include "repro/error.h"

namespace repro::cli {

int run_check(const Args& args) {
  const CommandSpec spec{"check",
                         "repro check CONFIG_OR_SUITE [--runs N] [--baseline DIR] [--update-baseline] [--junit FILE]\n"
                         "                   [--report DIR] [-j N] [--json] [--no-color]\n"
                         "       repro check --envelope FILE RUN_DIR... [--json] [--no-color]",
                         "Runs each config of a suite (or one config) N times in fresh processes, compares every run\n"
                         "with the first, and the first with the golden baseline <DIR>/<entry>/ when it exists;\n"
                         "--update-baseline stores today's first run as the baseline. Tolerance per entry comes from\n"
                         "the suite entry, else the config's check section; bitwise by default. Writes JUnit XML (a\n"
                         "test case per comparison; failures carry the explanations) and a report directory (JSON\n"
                         "reports, divergence plots, summary.md, the runs themselves, and site/: the HTML report\n"
                         "of every run and comparison, as `repro report` writes it).\n"
                         "Suite format (textproto, proto/check.proto):\n"
                         "  entry { config: \"mlp_synthetic.textproto\" set: \"train.steps=50\" runs: 3 rtol: 0 }\n"
                         "An entry's `envelope: \"FILE\"` also tests each of its runs against that envelope.\n"
                         "An entry can run your own program (recording with a repro::Session) instead:\n"
                         "  entry { name: \"train\" command: \"bin/train\" command: \"data\" }\n"
                         "(relative to the suite's directory unless absolute or a bare name on PATH; run in the\n"
                         "entry's `cwd`, default the suite's directory; its `set` reaches it as REPRO_SET).\n"
                         "With --envelope FILE (from `repro sweep --save-envelope`), tests existing runs instead: a\n"
                         "run passes when the loss (and every other named series) of every step of the envelope\n"
                         "and every final metric lie in their bands; otherwise the first step outside is named\n"
                         "with its series, value and band.\n"
                         "With --json, one CheckReport (proto/check.proto; also <report>/check.json): every run and\n"
                         "its exit code, the comparisons, the envelope checks, the entry errors and the verdict.\n"
                         "Exit: 0 all identical or within tolerance (inside the envelope), 1 any divergence, failed\n"
                         "run or run outside the envelope, 2 bad input (the whole suite is checked first: an entry\n"
                         "that cannot run as written runs nothing), 4 the report or JUnit file could not be\n"
                         "written (a FIFO, device or directory at FILE is never replaced)."};
  po::options_description options("options");
  options.add_options()("suite", po::value<std::vector<std::string>>()->value_name("FILE")->required(),
                        "suite file (proto/check.proto) or a single run config; with --envelope, run directories")(
      "envelope", po::value<std::string>()->value_name("FILE"),
      "test the run directories given against this envelope (repro sweep --save-envelope)")(
      "runs", po::value<int>()->value_name("N")->default_value(2), "runs per entry (an entry's own runs wins)")(
      "baseline", po::value<std::string>()->value_name("DIR"), "golden records: DIR/<entry>/")(
      "update-baseline", "store each entry's first run as its baseline (after comparing)")(
      "junit", po::value<std::string>()->value_name("FILE"), "write JUnit XML to FILE")(
      "report", po::value<std::string>()->value_name("DIR"),
      "report directory (default: check-report in the current directory)");
  add_jobs_option(options);
  add_color_option(options);
  po::positional_options_description positional;
  positional.add("suite", -1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  const auto positionals = vm["suite"].as<std::vector<std::string>>();
  if (vm.count("envelope") && (vm.count("baseline") || vm.count("update-baseline") || vm.count("junit"))) {
    throw Error::usage(
        "repro check: --envelope tests run directories; --baseline, --update-baseline and --junit are for suites");
  }
  const bool json = vm.count("json") > 0;
  auto print = [&](const proto::CheckReport& report) {
    std::cout << (json ? to_json(report) : format_check_report(report, use_color(vm))) << std::flush;
    return report.passed() ? kExitOk : kExitCheckFailed;
  };
  if (vm.count("envelope")) return print(check_against_envelope(vm["envelope"].as<std::string>(), positionals));
  if (positionals.size() != 1)
    throw Error::usage("repro check: expected one suite or config (run directories need --envelope)");

  CheckOptions opts;
  opts.runs = vm["runs"].as<int>();
  opts.jobs = jobs_from(vm);
  if (vm.count("baseline")) opts.baseline_dir = vm["baseline"].as<std::string>();
  opts.update_baseline = vm.count("update-baseline") > 0;
  if (vm.count("junit")) opts.junit_path = vm["junit"].as<std::string>();
  opts.report_dir = vm.count("report") ? vm["report"].as<std::string>() : "check-report";

  const std::string& suite_path = positionals[0];
  const proto::CheckSuite suite = load_suite(suite_path);
  const std::string suite_dir = std::filesystem::absolute(suite_path).parent_path().string();
  return print(repro::run_check(suite, suite_dir, opts));
}

}  // namespace repro::cli
