#include "repro/rerun.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fleet/rank_launch.h"
#include "repro/compare.h"
#include "repro/config.h"
#include "repro/data.h"
#include "repro/digest.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "run/code_patch.h"
#include "run/run_identity.h"
#include "util/child.h"
#include "util/env_names.h"
#include "util/fileutil.h"
#include "util/process.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

proto::Difference difference(const std::string& category, const std::string& field, const std::string& a,
                             const std::string& b, const std::string& explanation) {
  proto::Difference d;
  d.set_category(category);
  d.set_field(field);
  d.set_a(a);
  d.set_b(b);
  d.set_affects_numerics(true);
  d.set_explanation(explanation);
  return d;
}

// One changed input, and whether it refuses a rerun (a command-line path does not: it may be
// an output of the run).
struct InputChange {
  proto::Difference difference;
  bool refuses = true;
};

// Adds a difference when the file's content is no longer the recorded one.
void check_file(const proto::InputFile& f, const std::string& category, const std::string& field,
                std::vector<InputChange>& changed) {
  const std::string name = fs::path(f.path()).filename().string();
  std::uint64_t size = 0;
  std::string now;
  try {
    now = digest_file(f.path(), &size);
  } catch (const Error&) {
    changed.push_back(
        {difference(category, field, f.xxh3(), "(missing)", name + " is gone or unreadable: " + f.path())});
    return;
  }
  if (now != f.xxh3() || size != f.size()) {
    changed.push_back(
        {difference(category, field, f.xxh3(), now, name + " content changed since the run: " + f.path())});
  }
}

// A file or directory tracked by the Session (track_data, or the command line), digested again
// through the digest cache; a directory's change is named file by file against the manifest
// recorded in `run_dir`.
void check_tracked(const proto::InputFile& f, const std::string& run_dir, const DigestOptions& digest,
                   std::vector<InputChange>& changed) {
  const std::string field = "data.files[" + f.role() + "]";
  const std::string where = f.absolute_path().empty() ? f.path() : f.absolute_path();
  const bool refuses = f.tracked_by() != proto::TRACKED_BY_ARGV;
  PathDigest now;
  try {
    now = digest_path(where, digest);
  } catch (const Error& e) {
    changed.push_back(
        {difference("data", field, f.xxh3(), "(missing)", f.path() + " is gone or unreadable: " + e.what()), refuses});
    return;
  }
  if (now.xxh3 == f.xxh3() && now.directory == f.directory()) return;
  std::string explanation;
  if (f.directory() && now.directory && !run_dir.empty() && !f.manifest().empty()) {
    try {
      const proto::DataManifest recorded = read_manifest(run_dir + "/" + f.manifest());
      explanation = describe_diff(f.path(), diff_manifests(recorded, now.manifest)) + " since the run";
    } catch (const Error& e) {
      spdlog::warn("cannot name the files that changed: {}", e.what());
    }
  }
  if (explanation.empty()) explanation = f.path() + " content changed since the run: " + where;
  changed.push_back({difference("data", field, f.xxh3(), now.xxh3, explanation), refuses});
}

std::vector<InputChange> input_changes(const proto::RunRecord& record, const std::string& run_dir,
                                       const DigestOptions& digest) {
  std::vector<InputChange> changed;
  for (const auto& f : record.data().files()) {
    if (f.tracked_by() == proto::TRACKED_BY_CONFIG) {
      check_file(f, "data", "data.files[" + f.role() + "]", changed);
    } else {
      check_tracked(f, run_dir, digest, changed);
    }
  }
  if (!record.model().file().path().empty()) check_file(record.model().file(), "model", "model.file", changed);
  if (record.origin() != "repro run" && !record.code().executable_path().empty()) {
    const auto& code = record.code();
    std::string now;
    try {
      now = digest_file(code.executable_path());
    } catch (const Error&) {
      now = "(missing)";
    }
    if (now != code.executable_xxh3()) {
      changed.push_back({difference("code", "code.executable_xxh3", code.executable_xxh3(), now,
                                    "executable changed since the run: " + code.executable_path())});
    }
  }
  return changed;
}

// The recorded run's kernel choices that this machine would make differently: pinned in
// `child_env` when `match` (throwing when this CPU cannot make one), else warned about.
void match_kernels(const proto::Environment& recorded, bool match, std::map<std::string, std::string>* child_env) {
  const std::map<std::string, std::string> child(recorded.numerics_env().begin(), recorded.numerics_env().end());
  const auto mismatches = kernel_mismatches(recorded, capture_environment(), child);
  if (mismatches.empty()) return;
  if (!match) {
    spdlog::warn(
        "this machine picks other CPU kernels than the run did ({}); the rerun may differ for that reason "
        "alone (RerunOptions::match_kernels, `repro rerun --match-kernels`, pins the recorded ones)",
        describe_kernel_mismatches(mismatches));
    return;
  }
  for (const auto& m : mismatches) {
    if (!m.cannot.empty()) {
      throw Error::usage("RerunOptions::match_kernels: the run used " + m.what + " " + m.recorded + " but " + m.cannot +
                         "; this machine cannot run the recorded kernels");
    }
  }
  for (const auto& m : mismatches) {
    (*child_env)[m.variable] = m.pin;
    spdlog::info("matching the recorded kernels: {} {} ({}={})", m.what, m.recorded, m.variable, m.pin);
  }
}

}  // namespace

std::vector<proto::Difference> changed_inputs(const proto::RunRecord& record, const std::string& run_dir,
                                              const DigestOptions& digest) {
  std::vector<proto::Difference> changed;
  for (auto& c : input_changes(record, run_dir, digest)) changed.push_back(std::move(c.difference));
  return changed;
}

std::string allowing_option(const proto::Difference& changed) {
  return changed.category() == "data"    ? "allow_data_change"
         : changed.category() == "model" ? "allow_model_change"
                                         : "allow_changed_code";
}

RerunResult rerun(const RunData& original, const RerunOptions& options) {
  const auto& h = original.header;
  RerunResult result;
  DigestOptions digest;
  digest.rehash = options.rehash;
  for (auto& [d, refuses] : input_changes(h, original.dir, digest)) {
    const bool allowed = d.category() == "data"    ? options.allow_data_change
                         : d.category() == "model" ? options.allow_model_change
                                                   : options.allow_changed_code;
    if (!refuses) {
      spdlog::warn("{} (a path on the command line: named in the report, not refused)", d.explanation());
      result.allowed.push_back(d);
    } else if (allowed) {
      spdlog::warn("rerunning anyway: {}", d.explanation());
      result.allowed.push_back(d);
    } else {
      result.refused.push_back(d);
    }
  }
  if (!result.refused.empty()) return result;
  // A dirty run is rebuilt from its work tree as it is now: say when that no longer holds its patch.
  const std::string patch = internal::read_code_patch(original.dir, h.code());
  for (const auto& warning : internal::work_tree_drift(h.code(), patch)) spdlog::warn("{}", warning);

  // What to run, checked before anything is written: a built-in run from its recorded config
  // by `repro run`, a user's program from its recorded argv in its recorded directory.
  const bool builtin = h.origin() == "repro run";
  internal::ChildSpec child;
  if (builtin) {
    child.argv = {internal::repro_binary_or_self(options.repro_binary, "RerunOptions::repro_binary")};
  } else {
    if (h.argv().empty()) throw Error::input(original.dir + "/record.pb: no argv recorded; cannot re-execute");
    child.argv.assign(h.argv().begin(), h.argv().end());
    if (!h.code().executable_path().empty()) child.argv[0] = h.code().executable_path();
    child.cwd = h.cwd();
    if (!child.cwd.empty() && !fs::is_directory(child.cwd)) {
      throw Error::input(original.dir + "/record.pb: the recorded working directory " + child.cwd +
                         " does not exist; cannot re-execute");
    }
    internal::require_executable(child.argv[0], original.dir + "/record.pb: the recorded executable", child.cwd);
  }

  // Kernel pins for the child, decided (or refused) before anything is written.
  std::map<std::string, std::string> pinned(h.environment().numerics_env().begin(),
                                            h.environment().numerics_env().end());
  match_kernels(h.environment(), options.match_kernels, &pinned);

  const std::string runs_dir =
      options.runs_dir.empty() ? fs::path(original.dir).lexically_normal().parent_path().string() : options.runs_dir;
  internal::make_directories(runs_dir);
  const std::string run_id = internal::make_run_id(h.run_id().empty() ? "run" : "rerun");
  const std::string run_dir = runs_dir + "/" + run_id;
  // The recorded numerics variables replace ours (thread counts, CPU-kernel pins, OMP_*...).
  internal::ChildEnvironment env;
  env.run_dir = run_dir;
  env.run_id = run_id;
  env.rerun_of = h.run_id();
  env.drop = is_numerics_variable;
  env.set = pinned;
  if (options.rehash) env.set[internal::kEnvRehash] = "1";
  if (!builtin) {
    // A program's Session takes the recorded seed (a drawn one included) and the launcher's
    // recorded overrides again, as `repro run -- PROGRAM` gave them.
    if (h.seed() != 0) env.seed = h.seed();
    env.sets.assign(h.overrides().begin(), h.overrides().end());
    env.launcher = "repro rerun";
  }
  for (const auto& [k, v] : options.extra_env) env.set[k] = v;
  child.env = internal::child_environment(env);
  child.stdout_path = "-2";
  std::string config_file;
  if (builtin) {
    // The recorded resolved config, seed included, is the whole description of the run.
    config_file = run_dir + ".config.textproto";
    internal::write_file_atomic(config_file, config_to_text(h.config()));
    child.argv = internal::repro_run_argv(child.argv[0], config_file, {});
  }
  spdlog::info("rerunning {} in a fresh process into {}", h.run_id(), run_dir);
  if (h.distributed().world_size() > 1) {
    // A data-parallel run is relaunched with its world size, every rank on this machine.
    LaunchOptions layout;
    layout.nproc = h.distributed().world_size();
    layout.master_port = internal::free_local_port();
    std::string failed;
    result.exit_code = internal::run_ranks(child, layout, &failed);
    if (!failed.empty()) spdlog::warn("the rerun's {}", failed);
  } else {
    result.exit_code = internal::wait_child(internal::spawn(child));
  }
  if (!config_file.empty()) fs::remove(config_file);
  if (!fs::exists(fs::path(run_dir) / "record.pb")) {
    // A child that could not write (exit 4) is an I/O failure here too: one rule for I/O.
    throw Error(result.exit_code == kExitIo ? ErrorKind::kIo : ErrorKind::kInternal,
                "the re-executed process exited with status " + std::to_string(result.exit_code) +
                    " without recording a run in " + run_dir);
  }
  result.run_dir = run_dir;
  return result;
}

proto::ComparisonReport refusal_report(const RunData& original, const std::vector<proto::Difference>& refused) {
  if (refused.empty()) throw Error::internal("refusal_report: nothing was refused");
  proto::ComparisonReport report;
  report.set_schema_version(kComparisonReportSchemaVersion);
  report.set_run_a(original.dir);
  report.set_run_id_a(original.header.run_id());
  report.set_verdict(proto::INCOMPARABLE);
  report.set_summary("refused: " + refused.front().explanation() +
                     " (RerunOptions::" + allowing_option(refused.front()) + " runs anyway)");
  for (const auto& d : refused) *report.add_differences() = d;
  return report;
}

proto::ComparisonReport rerun_and_compare(const RunData& original, const RerunOptions& options,
                                          const Tolerance& tolerance) {
  const RerunResult result = rerun(original, options);
  if (!result.refused.empty()) return refusal_report(original, result.refused);
  proto::ComparisonReport report = compare_runs(original, read_run(result.run_dir), tolerance);
  // What it ran despite is named even where the two headers agree on it.
  for (const auto& d : result.allowed) {
    bool named = false;
    for (const auto& r : report.differences()) named = named || r.field().rfind(d.field(), 0) == 0;
    if (!named) *report.add_differences() = d;
  }
  return report;
}

}  // namespace repro
