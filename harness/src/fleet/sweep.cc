// repro sweep: plan the grid and the seeds, run every (setting, seed) as a fresh `repro run`
// process, read the runs back and summarize them (statistics in sweep_stats.cc).
#include "repro/sweep.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <set>

#include "fleet/wrapped_command.h"
#include "repro/config.h"
#include "repro/determinism.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/html_report.h"
#include "util/child.h"
#include "util/fileutil.h"
#include "util/process.h"
#include "util/strings.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// A varied value checked on its own, so that its error names SweepOptions::vary rather than
// the --set that apply_override names.
void check_assignment(const proto::RunConfig& base, const std::string& assignment) {
  proto::RunConfig copy = base;
  try {
    apply_override(&copy, assignment);
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.rfind("--set ", 0) == 0) message = "SweepOptions::vary " + message.substr(6);
    throw Error::usage(message);
  }
}

struct PlannedRun {
  int setting;      // index into the report's settings
  int seed;         // index into the seeds
  std::string dir;  // relative to the report directory
};

void check_counts(const SweepOptions& options) {
  if (options.seeds < 2) {
    throw Error::usage("SweepOptions::seeds: must be >= 2 (got " + std::to_string(options.seeds) + ")");
  }
  if (options.jobs < 1) {
    throw Error::usage("SweepOptions::jobs: must be >= 1 (got " + std::to_string(options.jobs) + ")");
  }
}

// The report's header: sets, base seed, seeds and varied fields.
void start_report(const SweepOptions& options, std::uint64_t base_seed, const std::vector<VariedValues>& fields,
                  proto::SweepReport* report) {
  report->set_schema_version(kSweepReportSchemaVersion);
  for (const auto& s : options.sets) report->add_sets(s);
  report->set_base_seed(base_seed);
  for (auto s : sweep_seeds(base_seed, options.seeds)) report->add_seeds(s);
  for (const auto& f : fields) {
    auto* v = report->add_varied();
    v->set_field(f.field);
    for (const auto& value : f.values) v->add_values(value);
  }
}

// A setting of the grid, with one run per seed planned in it.
proto::SweepSetting* add_setting(const std::vector<std::string>& assignments, proto::SweepReport* report) {
  auto* setting = report->add_settings();
  setting->set_label(assignments.empty() ? "base" : internal::join(assignments, " "));
  for (const auto& a : assignments) setting->add_assignments(a);
  return setting;
}

// Runs every planned child, reads the runs back into the report's settings, adds errors and
// sensitivity, and writes sweep.json. A setting without a config digest (a program's) takes
// it from the first run that reads back: the recorded config, seed 0.
void run_planned(const std::vector<PlannedRun>& planned, const std::vector<internal::ChildSpec>& children,
                 const SweepOptions& options, proto::SweepReport* report) {
  internal::make_directories(options.report_dir + "/runs");
  std::size_t finished = 0;
  internal::run_children(children, options.jobs, [&](std::size_t index, int code) {
    const PlannedRun& p = planned[index];
    auto* run = report->mutable_settings(p.setting)->mutable_runs(p.seed);
    run->set_exit_code(code);
    spdlog::info("sweep: {}/{} {} seed {}: exit {}", ++finished, planned.size(), report->settings(p.setting).label(),
                 run->seed(), code);
  });

  // Read the runs back in plan order (not finishing order): the report does not depend on -j.
  std::vector<std::string> errors;
  for (auto& setting : *report->mutable_settings()) {
    std::vector<std::unique_ptr<RunData>> data;
    std::vector<const RunData*> runs;
    for (const auto& run : setting.runs()) {
      const std::string dir = options.report_dir + "/" + run.dir();
      data.emplace_back();
      if (run.exit_code() == 0) {
        try {
          data.back() = std::make_unique<RunData>(read_run(dir));
        } catch (const Error& e) {
          errors.push_back(setting.label() + " seed " + std::to_string(run.seed()) + ": " + e.what());
        }
      } else {
        errors.push_back(setting.label() + " seed " + std::to_string(run.seed()) + ": exit " +
                         std::to_string(run.exit_code()) + " (log: " + dir + ".log)");
      }
      if (data.back() && setting.config_digest().empty()) {
        proto::RunConfig config = data.back()->header.config();
        config.set_seed(0);
        setting.set_config_digest(config_digest(config));
      }
      runs.push_back(data.back().get());
    }
    summarize_setting(runs, &setting);
  }
  for (const auto& e : errors) report->add_errors(e);
  for (auto& s : sensitivity(*report)) *report->add_sensitivity() = std::move(s);
  internal::write_file_atomic(options.report_dir + "/sweep.json", to_json(*report) + "\n");
  // <report_dir>/site/: the HTML report of the sweep's runs (repro/html_report.h); runs that
  // failed before recording are skipped, and a site that cannot be written is logged.
  try {
    ReportOptions site;
    site.title = "repro sweep";
    write_report({options.report_dir + "/runs"}, options.report_dir + "/site", site);
  } catch (const Error& e) {
    spdlog::error("cannot write the HTML report: {}", e.what());
  }
}

}  // namespace

VariedValues parse_vary(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error::usage("SweepOptions::vary " + spec + ": expected field=value1,value2,...");
  }
  VariedValues varied;
  varied.field = spec.substr(0, eq);
  if (varied.field == "seed") {
    throw Error::usage("SweepOptions::vary " + spec + ": seeds are varied with SweepOptions::seeds");
  }
  const std::string values = spec.substr(eq + 1);
  varied.values = internal::split(values, values.find(';') != std::string::npos ? ';' : ',');
  std::set<std::string> seen;
  for (const auto& v : varied.values) {
    if (v.empty()) throw Error::usage("SweepOptions::vary " + spec + ": " + varied.field + " has an empty value");
    if (!seen.insert(v).second) {
      throw Error::usage("SweepOptions::vary " + spec + ": " + varied.field + " repeats value '" + v + "'");
    }
  }
  return varied;
}

std::vector<std::vector<std::string>> expand_grid(const std::vector<VariedValues>& fields) {
  std::set<std::string> names;
  for (const auto& f : fields) {
    if (!names.insert(f.field).second) {
      throw Error::usage("SweepOptions::vary " + f.field + ": the field is varied twice");
    }
  }
  std::vector<std::vector<std::string>> grid = {{}};
  for (const auto& f : fields) {
    std::vector<std::vector<std::string>> next;
    for (const auto& setting : grid) {
      for (const auto& value : f.values) {
        next.push_back(setting);
        next.back().push_back(f.field + "=" + value);
      }
    }
    grid = std::move(next);
  }
  return grid;
}

std::vector<std::uint64_t> sweep_seeds(std::uint64_t master, int n) {
  std::vector<std::uint64_t> seeds;
  for (int i = 1; i <= n; ++i) {
    const std::uint64_t s = derive_seed(master, "sweep/" + std::to_string(i));
    seeds.push_back(s == 0 ? 1 : s);
  }
  return seeds;
}

proto::SweepReport run_sweep(const std::string& config_path, const SweepOptions& options) {
  check_counts(options);
  const std::string repro_binary = internal::repro_binary_or_self(options.repro_binary, "SweepOptions::repro_binary");

  // Plan: the base config, each varied value on its own, then each setting as a whole.
  const proto::RunConfig base = load_config(config_path, options.sets);
  std::vector<VariedValues> fields;
  for (const auto& spec : options.vary) {
    fields.push_back(parse_vary(spec));
    for (const auto& v : fields.back().values) check_assignment(base, fields.back().field + "=" + v);
  }
  const auto grid = expand_grid(fields);

  proto::SweepReport report;
  report.set_config(config_path);
  start_report(options, base.seed(), fields, &report);
  const std::vector<std::uint64_t> seeds(report.seeds().begin(), report.seeds().end());

  std::vector<PlannedRun> planned;
  std::vector<internal::ChildSpec> children;
  std::vector<proto::RunConfig> configs;  // every setting validated before anything is written
  for (const auto& assignments : grid) {
    std::vector<std::string> sets = options.sets;
    sets.insert(sets.end(), assignments.begin(), assignments.end());
    configs.push_back(load_config(config_path, sets));
    configs.back().set_seed(0);
  }
  internal::make_directories(options.report_dir);
  fs::remove_all(options.report_dir + "/runs");
  for (std::size_t g = 0; g < grid.size(); ++g) {
    std::vector<std::string> sets = options.sets;
    sets.insert(sets.end(), grid[g].begin(), grid[g].end());
    auto* setting = add_setting(grid[g], &report);
    setting->set_config_digest(config_digest(configs[g]));
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      const std::string dir = "runs/" + std::to_string(g + 1) + "-seed" + std::to_string(i + 1);
      auto* run = setting->add_runs();
      run->set_seed(seeds[i]);
      run->set_dir(dir);
      planned.push_back({static_cast<int>(g), static_cast<int>(i), dir});
      internal::ChildSpec child;
      std::vector<std::string> run_sets = sets;
      run_sets.push_back("seed=" + std::to_string(seeds[i]));
      child.argv = internal::repro_run_argv(repro_binary, config_path, run_sets);
      internal::ChildEnvironment env;
      env.run_dir = options.report_dir + "/" + dir;
      child.env = internal::child_environment(env);
      child.stdout_path = child.stderr_path = options.report_dir + "/" + dir + ".log";
      children.push_back(std::move(child));
    }
  }
  run_planned(planned, children, options, &report);
  return report;
}

proto::SweepReport sweep_program(const std::vector<std::string>& command, const SweepOptions& options) {
  check_counts(options);
  const auto argv = internal::resolve_command(command, fs::current_path().string(), "sweep program");
  // The program's config is its own: an assignment can be checked for its form only.
  for (const auto& s : options.sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) throw Error::usage("SweepOptions::sets " + s + ": expected path=value");
    if (s.substr(0, eq) == "seed") {
      throw Error::usage("SweepOptions::sets " + s +
                         ": a program sweep derives its seeds from SweepOptions::base_seed");
    }
  }
  std::vector<VariedValues> fields;
  for (const auto& spec : options.vary) fields.push_back(parse_vary(spec));
  const auto grid = expand_grid(fields);

  proto::SweepReport report;
  for (const auto& a : command) report.add_command(a);
  start_report(options, options.base_seed, fields, &report);
  internal::make_directories(options.report_dir);
  fs::remove_all(options.report_dir + "/runs");
  std::vector<PlannedRun> planned;
  std::vector<internal::ChildSpec> children;
  for (std::size_t g = 0; g < grid.size(); ++g) {
    std::vector<std::string> sets = options.sets;
    sets.insert(sets.end(), grid[g].begin(), grid[g].end());
    auto* setting = add_setting(grid[g], &report);
    for (int i = 0; i < report.seeds_size(); ++i) {
      const std::string dir = "runs/" + std::to_string(g + 1) + "-seed" + std::to_string(i + 1);
      auto* run = setting->add_runs();
      run->set_seed(report.seeds(i));
      run->set_dir(dir);
      planned.push_back({static_cast<int>(g), i, dir});
      internal::ChildEnvironment env;
      env.run_dir = options.report_dir + "/" + dir;
      env.seed = report.seeds(i);
      env.sets = sets;
      env.launcher = "repro sweep";
      internal::ChildSpec child;
      child.argv = argv;
      child.env = internal::child_environment(env);
      child.stdout_path = child.stderr_path = options.report_dir + "/" + dir + ".log";
      children.push_back(std::move(child));
    }
  }
  run_planned(planned, children, options, &report);
  return report;
}

}  // namespace repro
