// repro check: run each suite entry N times in fresh processes, compare with the first run and
// with the golden baseline, update the baseline on request, write JUnit and a report directory.
#include "repro/check.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <regex>

#include "fleet/check_report.h"
#include "fleet/wrapped_command.h"
#include "repro/compare.h"
#include "repro/config.h"
#include "repro/envelope.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/record.h"
#include "util/child.h"
#include "util/fileutil.h"
#include "util/input_file.h"
#include "util/process.h"
#include "util/strings.h"
#include "util/textproto.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

std::string entry_name(const proto::CheckEntry& e) {
  if (e.has_name()) return e.name();
  return fs::path(e.command_size() > 0 ? e.command(0) : e.config()).stem().string();
}

// The entry's tolerance over `base` (the config's check section, or the recorded one).
Tolerance entry_tolerance(const proto::CheckEntry& e, Tolerance t) {
  if (e.has_rtol()) t.rtol = e.rtol();
  if (e.has_atol()) t.atol = e.atol();
  if (e.has_from_step()) t.from_step = e.from_step();
  return t;
}

// How one entry runs: `repro run --config` for a config, the program itself for a command.
struct EntryPlan {
  std::string name;                    // a file name: runs/<name>, the baseline's <name>, JUnit's case
  std::string config;                  // the config file (absolute or suite-relative); empty for a command
  std::vector<std::string> sets;       // the entry's overrides
  std::vector<std::string> command;    // resolved (the program an absolute path); empty for a config
  std::string cwd;                     // the command's working directory
  std::optional<Tolerance> tolerance;  // a config's; a program's comes from its first record
  std::optional<proto::Envelope> envelope;
  std::string envelope_path;
};

std::string suite_path(const std::string& suite_dir, const std::string& path) {
  return fs::path(path).is_absolute() ? path : suite_dir + "/" + path;
}

// An entry's name becomes a directory under the report and the baseline: one file name.
void validate_entry_name(const std::string& what, const std::string& name) {
  const bool bad_char = std::any_of(name.begin(), name.end(), [](unsigned char c) { return c == '/' || c < 0x20; });
  if (name.empty() || name == "." || name == ".." || bad_char || !internal::is_valid_utf8(name) || name.size() > 128) {
    throw Error::input(what + ": name \"" + internal::escape_invalid_utf8(name) +
                       "\" is not a file name (it names the entry's directory under the report and the "
                       "baseline: no '/', not '.' or '..', at most 128 bytes of UTF-8)");
  }
}

// Checked for every entry before anything runs or is written: its config loads with its
// overrides, its envelope loads, its program can be started. A suite that cannot run as
// written is bad input (exit 2), not a failed check.
EntryPlan plan_entry(const proto::CheckEntry& e, int index, const std::string& suite_dir) {
  EntryPlan plan;
  plan.name = entry_name(e);
  const std::string what =
      "suite entry " + std::to_string(index + 1) + " (" + internal::escape_invalid_utf8(plan.name) + ")";
  validate_entry_name(what, plan.name);
  const bool command = e.command_size() > 0;
  if (command == e.has_config()) {
    throw Error::input(what + ": give exactly one of config and command (" +
                       (command ? "both are set" : "neither is set") + ")");
  }
  if (e.has_rtol()) validate_tolerance(what + ": rtol", e.rtol());
  if (e.has_atol()) validate_tolerance(what + ": atol", e.atol());
  if (e.has_from_step()) validate_from_step(what + ": from_step", e.from_step());
  if (e.has_runs() && e.runs() < 1) {
    throw Error::usage(what + ": runs: must be >= 1 (got " + std::to_string(e.runs()) + ")");
  }
  plan.sets.assign(e.set().begin(), e.set().end());
  try {
    if (e.has_envelope()) {
      plan.envelope_path = suite_path(suite_dir, e.envelope());
      plan.envelope = load_envelope(plan.envelope_path);
    }
    if (!command) {
      if (e.has_cwd()) throw Error::input("cwd is for command entries; a config entry runs `repro run`");
      plan.config = suite_path(suite_dir, e.config());
      plan.tolerance = entry_tolerance(e, tolerance_of(load_config(plan.config, plan.sets)));
      return plan;
    }
    // A program's Session applies the overrides to its own RunConfig: each must apply to one.
    proto::RunConfig scratch;
    for (const auto& assignment : plan.sets) apply_override(&scratch, assignment);
  } catch (const Error& err) {
    throw Error(err.kind(), what + ": " + err.what());
  }
  plan.cwd = e.has_cwd() ? suite_path(suite_dir, e.cwd()) : suite_dir;
  std::error_code ec;
  if (!fs::is_directory(plan.cwd, ec)) throw Error::input(what + ": cwd " + plan.cwd + " is not a directory");
  plan.command = internal::resolve_command({e.command().begin(), e.command().end()}, suite_dir, what + ": command");
  return plan;
}

// Copies a run directory to `dest` as a whole: into a temporary name, then renamed.
void replace_dir(const std::string& from, const std::string& dest) {
  const fs::path tmp = fs::path(dest).parent_path() / ("." + fs::path(dest).filename().string() + ".tmp");
  internal::make_directories(fs::path(dest).parent_path().string());
  fs::remove_all(tmp);
  fs::copy(from, tmp, fs::copy_options::recursive);
  fs::remove_all(dest);
  fs::rename(tmp, dest);
}

}  // namespace

bool check_passed(const proto::CheckReport& report) {
  if (report.errors_size() > 0) return false;
  for (const auto& c : report.comparisons()) {
    if (exit_code_of(c.report()) != 0) return false;
  }
  for (const auto& e : report.envelope_checks()) {
    if (!e.check().inside()) return false;
  }
  return true;
}

proto::CheckSuite load_suite(const std::string& path) {
  const std::string text = internal::read_input_file(path, "suite or config file", internal::kMaxTextInputBytes);
  proto::CheckSuite suite;
  std::string suite_error;
  const bool parsed = internal::parse_text(text, path, &suite, &suite_error);
  if (parsed && suite.entry_size() > 0) return suite;
  // Text that parses as a suite without entries holds no field at all.
  if (parsed) throw Error::input(path + ": empty: a suite lists entry { ... } blocks, a config its sections");
  // A file with an entry block is a suite: its own error, at its own line.
  static const std::regex entry_block(R"((^|\n)[ \t]*entry[ \t]*[{:<])");
  if (std::regex_search(text, entry_block)) throw Error::input(suite_error);
  // Not a suite: a single run config is a suite of one entry (parse_config names its errors).
  parse_config(text, path);
  suite.Clear();
  auto* entry = suite.add_entry();
  entry->set_config(fs::absolute(path).string());
  return suite;
}

proto::CheckReport run_check(const proto::CheckSuite& suite, const std::string& suite_dir,
                             const CheckOptions& options) {
  if (options.runs < 1) {
    throw Error::usage("CheckOptions::runs: must be >= 1 (got " + std::to_string(options.runs) + ")");
  }
  if (options.jobs < 1) {
    throw Error::usage("CheckOptions::jobs: must be >= 1 (got " + std::to_string(options.jobs) + ")");
  }
  if (options.update_baseline && options.baseline_dir.empty()) {
    throw Error::usage("CheckOptions::update_baseline: needs CheckOptions::baseline_dir");
  }
  const std::string repro_binary = internal::repro_binary_or_self(options.repro_binary, "CheckOptions::repro_binary");
  // The whole suite is checked before anything runs or is written.
  std::vector<EntryPlan> plans;
  std::map<std::string, int> entry_of_name;
  for (int i = 0; i < suite.entry_size(); ++i) {
    plans.push_back(plan_entry(suite.entry(i), i, suite_dir));
    const auto [it, fresh] = entry_of_name.emplace(plans.back().name, i + 1);
    if (!fresh) {
      throw Error::input("suite entry " + std::to_string(i + 1) + " (" + plans.back().name +
                         "): the name is already entry " + std::to_string(it->second) +
                         "'s; give each entry its own name (name: \"...\")");
    }
  }
  // A baseline made on a machine that chose other CPU kernels is said before the runs start.
  if (!options.baseline_dir.empty()) {
    const proto::Environment here = capture_environment();
    const std::map<std::string, std::string> ours(here.numerics_env().begin(), here.numerics_env().end());
    for (const auto& plan : plans) {
      const std::string baseline = options.baseline_dir + "/" + plan.name;
      if (!fs::exists(baseline + "/record.pb")) continue;
      const auto mismatches = kernel_mismatches(read_run(baseline).header.environment(), here, ours);
      if (mismatches.empty()) continue;
      spdlog::warn(
          "{}: this machine picks other CPU kernels than the baseline's did ({}); a difference from the "
          "baseline may come from that alone (determinism.portable pins kernels every x86-64 machine runs)",
          plan.name, describe_kernel_mismatches(mismatches));
    }
  }
  proto::CheckReport report;
  report.set_schema_version(kCheckReportSchemaVersion);
  const std::string report_dir = options.report_dir;
  report.set_report_dir(report_dir);
  internal::make_directories(report_dir);
  std::vector<internal::ChildSpec> children;
  std::map<std::string, Tolerance> tolerances;
  for (int index = 0; index < suite.entry_size(); ++index) {
    const proto::CheckEntry& e = suite.entry(index);
    const EntryPlan& plan = plans[index];
    const std::string& name = plan.name;
    if (plan.tolerance) tolerances[name] = *plan.tolerance;
    const std::string runs_dir = report_dir + "/runs/" + name;
    fs::remove_all(runs_dir);
    internal::make_directories(runs_dir);
    const int runs = e.has_runs() ? e.runs() : options.runs;
    for (int i = 1; i <= runs; ++i) {
      auto* run = report.add_runs();
      run->set_entry(name);
      run->set_index(i);
      run->set_dir(runs_dir + "/run-" + std::to_string(i));
      run->set_log(run->dir() + ".log");
      internal::ChildEnvironment env;
      if (plan.command.empty()) {
        env.run_dir = run->dir();  // child_environment passes it absolute
        children.push_back({internal::repro_run_argv(repro_binary, plan.config, plan.sets),
                            internal::child_environment(env), "", run->log(), run->log()});
      } else {
        // The program runs in its own cwd: every path it is given is absolute.
        env.run_dir = run->dir();
        env.sets = plan.sets;
        env.launcher = "repro check";
        children.push_back({plan.command, internal::child_environment(env), plan.cwd, fs::absolute(run->log()).string(),
                            fs::absolute(run->log()).string()});
      }
    }
  }
  // Run them, at most `jobs` at once, each in a fresh process with its own log.
  internal::run_children(children, options.jobs, [&](std::size_t index, int code) {
    auto* run = report.mutable_runs(static_cast<int>(index));
    run->set_exit_code(code);
    spdlog::info("{} run {}: exit {}", run->entry(), run->index(), code);
  });
  for (const auto& run : report.runs()) {
    if (run.exit_code() != 0) {
      report.add_errors(run.entry() + ": run " + std::to_string(run.index()) + " exited with " +
                        std::to_string(run.exit_code()) + " (log: " + run.log() + ")");
    } else if (!fs::exists(run.dir() + "/record.pb")) {
      report.add_errors(run.entry() + ": run " + std::to_string(run.index()) +
                        " exited with 0 but recorded no run in " + run.dir() +
                        " (does the program record with a repro::Session? log: " + run.log() + ")");
    }
  }
  // Compare each run with the first, and the first with the baseline.
  auto add_comparison = [&](const std::string& entry, const std::string& name, proto::ComparisonReport r) {
    auto* c = report.add_comparisons();
    c->set_entry(entry);
    c->set_name(name);
    *c->mutable_report() = std::move(r);
  };
  for (const auto& plan : plans) {
    const std::string& name = plan.name;
    const std::string first_dir = report_dir + "/runs/" + name + "/run-1";
    if (!fs::exists(first_dir + "/record.pb")) continue;
    const RunData first = read_run(first_dir);
    if (!tolerances.count(name)) {
      tolerances[name] = entry_tolerance(suite.entry(entry_of_name[name] - 1), tolerance_of(first.header.config()));
    }
    for (int i = 2;; ++i) {
      const std::string dir = report_dir + "/runs/" + name + "/run-" + std::to_string(i);
      if (!fs::exists(dir + "/record.pb")) break;
      add_comparison(name, "run " + std::to_string(i) + " vs run 1",
                     compare_runs(first, read_run(dir), tolerances[name]));
    }
    if (plan.envelope) {
      for (int i = 1;; ++i) {
        const std::string dir = report_dir + "/runs/" + name + "/run-" + std::to_string(i);
        if (!fs::exists(dir + "/record.pb")) break;
        auto* e = report.add_envelope_checks();
        e->set_entry(name);
        e->set_name("run " + std::to_string(i) + " vs envelope");
        *e->mutable_check() = check_envelope(*plan.envelope, read_run(dir), plan.envelope_path);
      }
    }
    const std::string baseline = options.baseline_dir.empty() ? "" : options.baseline_dir + "/" + name;
    if (!baseline.empty() && fs::exists(baseline + "/record.pb")) {
      add_comparison(name, "run 1 vs baseline", compare_runs(read_run(baseline), first, tolerances[name]));
    }
    if (options.update_baseline && !baseline.empty()) {
      replace_dir(first_dir, baseline);
      spdlog::info("{}: baseline updated ({})", name, baseline);
    }
  }
  report.set_passed(check_passed(report));
  internal::write_check_report(report, options);
  return report;
}

proto::CheckReport check_against_envelope(const std::string& envelope_path, const std::vector<std::string>& run_dirs) {
  const proto::Envelope envelope = load_envelope(envelope_path);
  proto::CheckReport report;
  report.set_schema_version(kCheckReportSchemaVersion);
  for (const auto& dir : run_dirs) {
    auto* e = report.add_envelope_checks();
    e->set_name(dir);
    *e->mutable_check() = check_envelope(envelope, read_run(dir), envelope_path);
  }
  report.set_passed(check_passed(report));
  return report;
}

}  // namespace repro
