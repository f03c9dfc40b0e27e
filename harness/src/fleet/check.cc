// repro check: run each suite entry N times in fresh processes, compare with the first run and
// with the golden baseline, update the baseline on request, write JUnit and a report directory.
#include "repro/check.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "fleet/check_report.h"
#include "util/fileutil.h"
#include "util/process.h"
#include "repro/compare.h"
#include "repro/config.h"
#include "repro/envelope.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/record.h"
#include "util/textproto.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

std::string entry_name(const proto::CheckEntry& e) {
  return e.has_name() ? e.name() : fs::path(e.config()).stem().string();
}

struct PlannedRun {
  std::string entry;
  int index;  // 1-based
  std::string dir;
  std::vector<std::string> argv;
  std::string log;
};

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

bool CheckResult::passed() const {
  if (!errors.empty()) return false;
  for (const auto& c : comparisons) {
    if (exit_code_of(c.report) != 0) return false;
  }
  for (const auto& e : envelope_checks) {
    if (!e.check.inside()) return false;
  }
  return true;
}

proto::CheckSuite load_suite(const std::string& path) {
  const std::string text = internal::read_whole_file(path, "suite or config file");
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

CheckResult run_check(const proto::CheckSuite& suite, const std::string& suite_dir, const CheckOptions& options) {
  CheckResult result;
  const std::string report_dir = options.report_dir;
  fs::create_directories(report_dir);
  // Plan every run; an entry whose config is bad is an error of that entry, not of the check.
  std::vector<PlannedRun> planned;
  std::map<std::string, Tolerance> tolerances;
  std::map<std::string, proto::Envelope> envelopes;
  std::map<std::string, std::string> envelope_paths;
  std::vector<std::string> names;
  for (const auto& e : suite.entry()) {
    const std::string name = entry_name(e);
    const std::string config = fs::path(e.config()).is_absolute() ? e.config() : suite_dir + "/" + e.config();
    std::vector<std::string> sets(e.set().begin(), e.set().end());
    try {
      const proto::RunConfig resolved = load_config(config, sets);
      Tolerance t = tolerance_of(resolved);
      if (e.has_rtol()) t.rtol = e.rtol();
      if (e.has_atol()) t.atol = e.atol();
      if (e.has_from_step()) t.from_step = e.from_step();
      tolerances[name] = t;
      if (e.has_envelope()) {
        const std::string path = fs::path(e.envelope()).is_absolute() ? e.envelope() : suite_dir + "/" + e.envelope();
        envelopes[name] = load_envelope(path);
        envelope_paths[name] = path;
      }
    } catch (const Error& err) {
      result.errors.push_back(name + ": " + err.what());
      continue;
    }
    names.push_back(name);
    const std::string runs_dir = report_dir + "/runs/" + name;
    fs::remove_all(runs_dir);
    fs::create_directories(runs_dir);
    const int runs = e.has_runs() ? e.runs() : options.runs;
    for (int i = 1; i <= std::max(runs, 1); ++i) {
      PlannedRun run{name, i, runs_dir + "/run-" + std::to_string(i), {}, runs_dir + "/run-" + std::to_string(i) + ".log"};
      run.argv = {options.repro_binary, "run", "--config", config};
      for (const auto& s : sets) {
        run.argv.push_back("--set");
        run.argv.push_back(s);
      }
      planned.push_back(run);
    }
  }
  // Run them, at most `jobs` at once, each in a fresh process with its own log.
  auto env = internal::current_environment();
  env.erase("REPRO_REEXECUTED");
  std::vector<internal::ChildSpec> children;
  for (const auto& run : planned) {
    children.push_back({run.argv, env, "", run.log, run.log});
    children.back().env["REPRO_RUN_DIR"] = run.dir;
  }
  internal::run_children(children, options.jobs, [&](std::size_t index, int code) {
    const PlannedRun& run = planned[index];
    spdlog::info("{} run {}: exit {}", run.entry, run.index, code);
    if (code != 0) result.errors.push_back(run.entry + ": run " + std::to_string(run.index) + " exited with " +
                                           std::to_string(code) + " (log: " + run.log + ")");
  });
  // Compare each run with the first, and the first with the baseline.
  for (const auto& name : names) {
    const std::string first_dir = report_dir + "/runs/" + name + "/run-1";
    if (!fs::exists(first_dir + "/record.pb")) continue;
    const RunData first = read_run(first_dir);
    for (int i = 2;; ++i) {
      const std::string dir = report_dir + "/runs/" + name + "/run-" + std::to_string(i);
      if (!fs::exists(dir + "/record.pb")) break;
      result.comparisons.push_back({name, "run " + std::to_string(i) + " vs run 1",
                                    compare_runs(first, read_run(dir), tolerances[name])});
    }
    if (envelopes.count(name)) {
      for (int i = 1;; ++i) {
        const std::string dir = report_dir + "/runs/" + name + "/run-" + std::to_string(i);
        if (!fs::exists(dir + "/record.pb")) break;
        result.envelope_checks.push_back({name, "run " + std::to_string(i) + " vs envelope",
                                          check_envelope(envelopes[name], read_run(dir), envelope_paths[name])});
      }
    }
    const std::string baseline = options.baseline_dir.empty() ? "" : options.baseline_dir + "/" + name;
    if (!baseline.empty() && fs::exists(baseline + "/record.pb")) {
      result.comparisons.push_back({name, "run 1 vs baseline", compare_runs(read_run(baseline), first, tolerances[name])});
    }
    if (options.update_baseline && !baseline.empty()) {
      replace_dir(first_dir, baseline);
      spdlog::info("{}: baseline updated ({})", name, baseline);
    }
  }
  internal::write_check_report(result, options);
  return result;
}

}  // namespace repro
