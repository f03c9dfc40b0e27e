// repro check: the nightly mode — rerun configs, compare with the first run and with golden
// baselines, JUnit XML and a report directory.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "options.h"
#include "repro/check.h"
#include "repro/compare.h"
#include "repro/envelope.h"
#include "repro/environment.h"
#include "repro/error.h"

namespace repro::cli {
namespace {

// repro check --envelope FILE RUN_DIR...: every run tested against the envelope.
int check_envelope_runs(const std::string& envelope_path, const std::vector<std::string>& run_dirs, bool json) {
  const proto::Envelope envelope = load_envelope(envelope_path);
  std::vector<proto::EnvelopeCheck> checks;
  for (const auto& dir : run_dirs) checks.push_back(check_envelope(envelope, read_run(dir), envelope_path));
  bool all_inside = true;
  if (json) std::cout << "[";
  for (std::size_t i = 0; i < checks.size(); ++i) {
    all_inside = all_inside && checks[i].inside();
    if (json) {
      std::cout << (i ? "," : "") << to_json(checks[i]);
    } else {
      std::cout << checks[i].run_dir() << ": " << format_envelope_check(checks[i]);
    }
  }
  if (json) std::cout << "]\n";
  return all_inside ? kExitOk : kExitCheckFailed;
}

}  // namespace

int run_check(const Args& args) {
  const CommandSpec spec{
      "check",
      "repro check CONFIG_OR_SUITE [--runs N] [--baseline DIR] [--update-baseline] [--junit FILE]\n"
      "                   [--report DIR] [-j N] [--json]\n"
      "       repro check --envelope FILE RUN_DIR... [--json]",
      "Runs each config of a suite (or one config) N times in fresh processes, compares every run\n"
      "with the first, and the first with the golden baseline <DIR>/<entry>/ when it exists;\n"
      "--update-baseline stores today's first run as the baseline. Tolerance per entry comes from\n"
      "the suite entry, else the config's check section; bitwise by default. Writes JUnit XML (a\n"
      "test case per comparison; failures carry the explanations) and a report directory (JSON\n"
      "reports, divergence plots, summary.md, and the runs themselves).\n"
      "Suite format (textproto, proto/check.proto):\n"
      "  entry { config: \"mlp_synthetic.textproto\" set: \"train.steps=50\" runs: 3 rtol: 0 }\n"
      "An entry's `envelope: \"FILE\"` also tests each of its runs against that envelope.\n"
      "With --envelope FILE (from `repro sweep --save-envelope`), tests existing runs instead: a\n"
      "run passes when the loss of every step of the envelope and every final metric lie in\n"
      "their bands; otherwise the first step outside is named with its loss and band.\n"
      "Exit: 0 all identical or within tolerance (inside the envelope), 1 any divergence, failed\n"
      "run or run outside the envelope, 2 bad input."};
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
      "report directory (default: check-report in the current directory)")(
      "jobs,j", po::value<int>()->value_name("N")->default_value(1), "runs at once");
  po::positional_options_description positional;
  positional.add("suite", -1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  const auto positionals = vm["suite"].as<std::vector<std::string>>();
  if (vm.count("envelope") && (vm.count("baseline") || vm.count("update-baseline") || vm.count("junit"))) {
    throw Error::usage("repro check: --envelope tests run directories; --baseline, --update-baseline and --junit are for suites");
  }
  if (vm.count("envelope")) return check_envelope_runs(vm["envelope"].as<std::string>(), positionals, vm.count("json") > 0);
  if (positionals.size() != 1) throw Error::usage("repro check: expected one suite or config (run directories need --envelope)");

  CheckOptions opts;
  opts.runs = vm["runs"].as<int>();
  opts.jobs = vm["jobs"].as<int>();
  if (opts.runs < 1) throw Error::usage("repro check: --runs must be >= 1");
  if (opts.jobs < 1) throw Error::usage("repro check: -j must be >= 1");
  if (vm.count("baseline")) opts.baseline_dir = vm["baseline"].as<std::string>();
  opts.update_baseline = vm.count("update-baseline") > 0;
  if (opts.update_baseline && opts.baseline_dir.empty()) {
    throw Error::usage("repro check: --update-baseline needs --baseline DIR");
  }
  if (vm.count("junit")) opts.junit_path = vm["junit"].as<std::string>();
  opts.report_dir = vm.count("report") ? vm["report"].as<std::string>() : "check-report";

  const std::string& suite_path = positionals[0];
  const proto::CheckSuite suite = load_suite(suite_path);
  const std::string suite_dir = std::filesystem::absolute(suite_path).parent_path().string();
  const CheckResult result = run_check(suite, suite_dir, opts);

  if (vm.count("json")) {
    std::cout << "[";
    for (std::size_t i = 0; i < result.comparisons.size(); ++i) {
      std::cout << (i ? "," : "") << to_json(result.comparisons[i].report);
    }
    std::cout << "]\n";
  } else {
    const bool color = isatty(STDOUT_FILENO);
    for (const auto& c : result.comparisons) {
      std::cout << c.entry << ": " << c.name << ": " << c.report.summary() << "\n";
      for (const auto& d : c.report.differences()) {
        std::cout << "    " << (d.affects_numerics() ? "[numerics] " : "[other]    ") << d.field() << ": "
                  << d.explanation() << "\n";
      }
    }
    for (const auto& e : result.envelope_checks) {
      std::cout << e.entry << ": " << e.name << ": " << format_envelope_check(e.check);
    }
    for (const auto& e : result.errors) std::cout << "error: " << e << "\n";
    const char* verdict = result.passed() ? "passed" : "FAILED";
    std::cout << (color ? (result.passed() ? "\033[32m" : "\033[31m") : "") << "check " << verdict
              << (color ? "\033[0m" : "") << ": " << result.comparisons.size() << " comparison(s), "
              << result.envelope_checks.size() << " envelope check(s), "
              << result.errors.size() << " error(s); report in " << opts.report_dir << "\n";
  }
  return result.passed() ? kExitOk : kExitCheckFailed;
}

}  // namespace repro::cli
