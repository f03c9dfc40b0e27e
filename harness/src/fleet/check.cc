// repro check: run each suite entry N times in fresh processes, compare with the first run and
// with the golden baseline, update the baseline on request, write JUnit and a report directory.
#include "repro/check.h"

#include <spdlog/spdlog.h>

#include <filesystem>

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
#include "util/textproto.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

std::string entry_name(const proto::CheckEntry& e) {
  if (e.has_name()) return e.name();
  return fs::path(e.command_size() > 0 ? e.command(0) : e.config()).stem().string();
}

// How one entry runs: `repro run --config` for a config, the program itself for a command.
struct EntryPlan {
  std::vector<std::string> command;  // resolved (the program an absolute path); empty for a config
  std::string cwd;                   // the command's working directory
};

// Checked for every entry before anything runs or is written: a suite that names no program
// it can start is bad input, not a failed check.
EntryPlan plan_entry(const proto::CheckEntry& e, int index, const std::string& suite_dir) {
  const std::string what = "suite entry " + std::to_string(index + 1) + " (" + entry_name(e) + ")";
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
  EntryPlan plan;
  if (!command) {
    if (e.has_cwd()) throw Error::input(what + ": cwd is for command entries; a config entry runs `repro run`");
    return plan;
  }
  plan.cwd = e.has_cwd() ? (fs::path(e.cwd()).is_absolute() ? e.cwd() : suite_dir + "/" + e.cwd()) : suite_dir;
  std::error_code ec;
  if (!fs::is_directory(plan.cwd, ec)) throw Error::input(what + ": cwd " + plan.cwd + " is not a directory");
  plan.command = internal::resolve_command({e.command().begin(), e.command().end()}, suite_dir, what + ": command");
  return plan;
}

// The entry's tolerance over `base` (the config's check section, or the recorded one).
Tolerance entry_tolerance(const proto::CheckEntry& e, Tolerance t) {
  if (e.has_rtol()) t.rtol = e.rtol();
  if (e.has_atol()) t.atol = e.atol();
  if (e.has_from_step()) t.from_step = e.from_step();
  return t;
}

// Copies a run directory to `dest` as a whole: into a temporary name, then renamed.
void replace_dir(const std::string& from, const std::string& dest) {
  const fs::path tmp = fs::path(dest).parent_path() / ("." + fs::path(dest).filename().string() + ".tmp");
  fs::create_directories(fs::path(dest).parent_path());
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
  if (internal::parse_text(text, path, &suite, &suite_error) && suite.entry_size() > 0) return suite;
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
  std::vector<EntryPlan> plans;
  for (int i = 0; i < suite.entry_size(); ++i) plans.push_back(plan_entry(suite.entry(i), i, suite_dir));
  proto::CheckReport report;
  report.set_schema_version(kCheckReportSchemaVersion);
  const std::string report_dir = options.report_dir;
  report.set_report_dir(report_dir);
  fs::create_directories(report_dir);
  // Plan every run; an entry whose config is bad is an error of that entry, not of the check.
  std::vector<internal::ChildSpec> children;
  std::map<std::string, Tolerance> tolerances;
  std::map<std::string, proto::Envelope> envelopes;
  std::map<std::string, std::string> envelope_paths;
  std::vector<std::string> names;
  std::map<std::string, const proto::CheckEntry*> entries;
  for (int index = 0; index < suite.entry_size(); ++index) {
    const proto::CheckEntry& e = suite.entry(index);
    const EntryPlan& plan = plans[index];
    const std::string name = entry_name(e);
    const std::string config = fs::path(e.config()).is_absolute() ? e.config() : suite_dir + "/" + e.config();
    std::vector<std::string> sets(e.set().begin(), e.set().end());
    try {
      // A program's config is known once it has run: its tolerance comes from its record.
      if (plan.command.empty()) tolerances[name] = entry_tolerance(e, tolerance_of(load_config(config, sets)));
      if (e.has_envelope()) {
        const std::string path = fs::path(e.envelope()).is_absolute() ? e.envelope() : suite_dir + "/" + e.envelope();
        envelopes[name] = load_envelope(path);
        envelope_paths[name] = path;
      }
    } catch (const Error& err) {
      report.add_errors(name + ": " + err.what());
      continue;
    }
    names.push_back(name);
    entries[name] = &e;
    const std::string runs_dir = report_dir + "/runs/" + name;
    fs::remove_all(runs_dir);
    fs::create_directories(runs_dir);
    const int runs = e.has_runs() ? e.runs() : options.runs;
    for (int i = 1; i <= std::max(runs, 1); ++i) {
      auto* run = report.add_runs();
      run->set_entry(name);
      run->set_index(i);
      run->set_dir(runs_dir + "/run-" + std::to_string(i));
      run->set_log(run->dir() + ".log");
      internal::ChildEnvironment env;
      if (plan.command.empty()) {
        env.run_dir = run->dir();  // child_environment passes it absolute
        children.push_back({internal::repro_run_argv(repro_binary, config, sets), internal::child_environment(env), "",
                            run->log(), run->log()});
      } else {
        // The program runs in its own cwd: every path it is given is absolute.
        env.run_dir = run->dir();
        env.sets = sets;
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
  for (const auto& name : names) {
    const std::string first_dir = report_dir + "/runs/" + name + "/run-1";
    if (!fs::exists(first_dir + "/record.pb")) continue;
    const RunData first = read_run(first_dir);
    if (!tolerances.count(name))
      tolerances[name] = entry_tolerance(*entries[name], tolerance_of(first.header.config()));
    for (int i = 2;; ++i) {
      const std::string dir = report_dir + "/runs/" + name + "/run-" + std::to_string(i);
      if (!fs::exists(dir + "/record.pb")) break;
      add_comparison(name, "run " + std::to_string(i) + " vs run 1",
                     compare_runs(first, read_run(dir), tolerances[name]));
    }
    if (envelopes.count(name)) {
      for (int i = 1;; ++i) {
        const std::string dir = report_dir + "/runs/" + name + "/run-" + std::to_string(i);
        if (!fs::exists(dir + "/record.pb")) break;
        auto* e = report.add_envelope_checks();
        e->set_entry(name);
        e->set_name("run " + std::to_string(i) + " vs envelope");
        *e->mutable_check() = check_envelope(envelopes[name], read_run(dir), envelope_paths[name]);
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
