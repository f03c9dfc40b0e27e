// `repro trace` (repro/trace.h): re-execute runs with a trace window, align, try settings.
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>

#include "env/cpu_features.h"
#include "repro/compare.h"
#include "repro/error.h"
#include "repro/rerun.h"
#include "repro/trace.h"
#include "util/env_names.h"
#include "util/fileutil.h"
#include "util/strings.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// A scratch directory for the re-executions' run directories, removed with it.
struct ScratchDir {
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "repro-trace-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw Error::internal("cannot create a directory under " + templ);
    path = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

// One setting to try: a config assignment, and the variables that must accompany it.
struct Knob {
  std::string setting, from, to;
  std::map<std::string, std::string> env;
};

std::string trace_path(const RunData& run, int64_t step, const std::string& label, int rank) {
  return (fs::path(run.dir) / "traces" /
          ("step-" + std::to_string(step) + (label.empty() ? "" : "-" + label) +
           (rank > 0 ? "-rank" + std::to_string(rank) : "") + ".trace"))
      .string();
}

// TraceOptions::rank against the run's world size.
void check_rank(const RunData& run, int rank) {
  const int world = std::max(1, run.header.distributed().world_size());
  if (rank >= 0 && rank < world) return;
  throw Error::usage("TraceOptions::rank " + std::to_string(rank) + ": " + run.dir +
                     (world == 1 ? " is a single-process run (rank 0 only)"
                                 : " has " + std::to_string(world) + " ranks (0.." + std::to_string(world - 1) + ")"));
}

proto::Trace trace_with(const RunData& run, int64_t step, const TraceOptions& options, const std::string& label,
                        const std::vector<Knob>& knobs, std::string* file) {
  check_rank(run, options.rank);
  const std::string path = trace_path(run, step, label, options.rank);
  std::error_code ec;
  fs::remove(path, ec);
  ScratchDir scratch;
  RerunOptions r;
  r.repro_binary = options.repro_binary;
  r.runs_dir = scratch.path;
  r.allow_data_change = options.allow_data_change;
  r.allow_model_change = options.allow_model_change;
  r.allow_changed_code = options.allow_changed_code;
  r.extra_env = {
      {internal::kEnvTraceStep, std::to_string(step)}, {internal::kEnvTraceFile, path}, {internal::kEnvTraceStop, "1"}};
  std::string sets;
  for (const auto& k : knobs) {
    sets += (sets.empty() ? "" : ";") + k.setting + "=" + k.to;
    for (const auto& [name, value] : k.env) r.extra_env[name] = value;
  }
  if (!sets.empty()) r.extra_env[internal::kEnvTraceSet] = sets;
  // Every rank of a data-parallel run traces the step's window (so that they stop together);
  // the chosen one records it.
  const bool ranks = run.header.distributed().world_size() > 1;
  if (ranks) r.extra_env[internal::kEnvTraceRank] = std::to_string(options.rank);
  spdlog::info("tracing step {} of {}{}{}", step, run.header.run_id(),
               ranks ? " on rank " + std::to_string(options.rank) : "", sets.empty() ? "" : " with " + sets);
  const RerunResult result = rerun(run, r);
  if (!result.refused.empty()) {
    std::string why, allow;
    for (const auto& d : result.refused) {
      why += (why.empty() ? "" : "; ") + d.explanation();
      const std::string option = "TraceOptions::" + allowing_option(d);
      if (allow.find(option) == std::string::npos) allow += (allow.empty() ? "" : ", ") + option;
    }
    throw Error::input("cannot re-execute " + run.dir + ": " + why + " (" + allow + " runs anyway)");
  }
  if (!fs::exists(path)) {
    throw Error::internal("the re-execution of " + run.dir + " exited with status " + std::to_string(result.exit_code) +
                          " without writing a trace of step " + std::to_string(step) +
                          (ranks ? " on rank " + std::to_string(options.rank) : "") +
                          " (does the program record that step through its Session?)");
  }
  if (file != nullptr) *file = path;
  return read_trace(path);
}

void check_step(const RunData& run, int64_t step) {
  for (const auto& s : run.steps) {
    if (s.step() == step) return;
  }
  throw Error::usage("TraceOptions::step " + std::to_string(step) + ": " + run.dir + " recorded no such step (" +
                     std::to_string(run.steps.size()) + " steps)");
}

int64_t divergent_step(const RunData& a, const RunData& b) {
  const auto report = compare_runs(a, b);
  std::optional<int64_t> k;
  if (report.has_first_divergent_step()) k = report.first_divergent_step();
  if (report.has_first_param_digest_divergent_step()) {
    k = std::min(k.value_or(INT64_MAX), report.first_param_digest_divergent_step());
  }
  if (!k) {
    throw Error::usage("the records of " + a.dir + " and " + b.dir +
                       " do not diverge (losses and parameter digests equal); give TraceOptions::step K to "
                       "trace a step anyway");
  }
  return *k;
}

std::string str(bool b) { return b ? "true" : "false"; }

// Settings whose values differ between the two records' determinism configs; when none does,
// the usual suspects with run A's value flipped.
std::vector<Knob> knob_matrix(const proto::RunRecord& a, const proto::RunRecord* b) {
  const auto& da = a.config().determinism();
  std::vector<Knob> knobs;
  if (b != nullptr) {
    const auto& db = b->config().determinism();
    auto add = [&](const std::string& name, const std::string& x, const std::string& y,
                   std::map<std::string, std::string> env = {}) {
      if (x != y) knobs.push_back({"determinism." + name, x, y, std::move(env)});
    };
    add("intra_op_threads", std::to_string(da.intra_op_threads()), std::to_string(db.intra_op_threads()));
    add("inter_op_threads", std::to_string(da.inter_op_threads()), std::to_string(db.inter_op_threads()));
    add("deterministic_algorithms", str(da.deterministic_algorithms()), str(db.deterministic_algorithms()));
    if (!db.cpu_capability().empty()) {
      add("cpu_capability", da.cpu_capability(), db.cpu_capability(), {{"ATEN_CPU_CAPABILITY", db.cpu_capability()}});
    }
    if (!db.onednn_max_cpu_isa().empty()) {
      add("onednn_max_cpu_isa", da.onednn_max_cpu_isa(), db.onednn_max_cpu_isa(),
          {{"ONEDNN_MAX_CPU_ISA", db.onednn_max_cpu_isa()}});
    }
    if (!db.blas_coretype().empty()) {
      add("blas_coretype", da.blas_coretype(), db.blas_coretype(), {{"OPENBLAS_CORETYPE", db.blas_coretype()}});
    }
    if (!db.glibc_hwcaps().empty()) {
      add("glibc_hwcaps", da.glibc_hwcaps(), db.glibc_hwcaps(),
          {{"GLIBC_TUNABLES", internal::tunables_with_hwcaps("", db.glibc_hwcaps())}});
    }
    if (!knobs.empty()) return knobs;
  }
  knobs.push_back({"determinism.intra_op_threads",
                   std::to_string(da.intra_op_threads()),
                   da.intra_op_threads() == 1 ? "2" : "1",
                   {}});
  knobs.push_back({"determinism.inter_op_threads",
                   std::to_string(da.inter_op_threads()),
                   da.inter_op_threads() == 1 ? "2" : "1",
                   {}});
  knobs.push_back({"determinism.deterministic_algorithms",
                   str(da.deterministic_algorithms()),
                   str(!da.deterministic_algorithms()),
                   {}});
  if (da.cpu_capability() != "default") {
    const std::string now = a.determinism().cpu_capability();
    knobs.push_back({"determinism.cpu_capability",
                     da.cpu_capability().empty() ? now : da.cpu_capability(),
                     "default",
                     {{"ATEN_CPU_CAPABILITY", "default"}}});
  }
  return knobs;
}

void run_knobs(const RunData& a, const RunData* b, int64_t step, const proto::Trace& trace_a,
               const proto::Trace& trace_b, const TraceOptions& options, proto::TraceReport* report) {
  std::vector<std::string> flips, changes;
  for (const auto& knob : knob_matrix(a.header, b ? &b->header : nullptr)) {
    std::string label = knob.setting.substr(knob.setting.find('.') + 1) + "=" + knob.to;
    const proto::Trace t = trace_with(a, step, options, label, {knob}, nullptr);
    auto* k = report->add_knobs();
    k->set_setting(knob.setting);
    k->set_from(knob.from);
    k->set_to(knob.to);
    k->set_matches_b(same_outputs(t, trace_b));
    std::string first;
    k->set_parts_from_a(!same_outputs(t, trace_a, &first));
    k->set_first_difference(first);
    if (k->matches_b()) flips.push_back(knob.setting);
    if (k->parts_from_a()) changes.push_back(knob.setting);
  }
  std::string summary;
  if (!flips.empty()) {
    summary = internal::join(flips, ", ") + " flips the bits: with run B's value, run A's step " +
              std::to_string(step) + " computes run B's numbers";
  } else if (!changes.empty()) {
    summary = "no single setting reproduces run B; " + internal::join(changes, ", ") + " changes step " +
              std::to_string(step) + "'s numbers";
  } else {
    summary = "no single setting changes step " + std::to_string(step) + "'s numbers";
  }
  report->set_knobs_summary(summary);
}

}  // namespace

proto::Trace trace_one(const RunData& run, int64_t step, const TraceOptions& options, std::string* file) {
  check_step(run, step);
  return trace_with(run, step, options, "", {}, file);
}

proto::TraceReport trace_runs(const RunData& a, const RunData* b, const TraceOptions& options) {
  const bool chosen = options.step >= 0;
  int64_t step = options.step;
  if (!chosen) {
    if (b == nullptr) throw Error::usage("TraceOptions::step: required when tracing a single run");
    step = divergent_step(a, *b);
  }
  check_step(a, step);
  if (b != nullptr) check_step(*b, step);
  struct Traced {
    proto::Trace a, b;
    std::string file_a, file_b;
    proto::TraceReport report;
  };
  auto trace_step = [&](int64_t k) {
    Traced t;
    t.a = trace_with(a, k, options, "", {}, &t.file_a);
    t.b = b != nullptr ? trace_with(*b, k, options, "", {}, &t.file_b)
                       : trace_with(a, k, options, "again", {}, &t.file_b);
    t.report = align_traces(t.a, t.b);
    return t;
  };
  Traced t = trace_step(step);
  std::vector<std::string> walk;
  if (!chosen && t.report.verdict() == proto::STATE_DIFFERS && step > 0) {
    // The state entering `step` differs although the records part there: bisect for the last
    // step whose entering state is the same (state, once different, stays different).
    walk.push_back("step " + std::to_string(step) + ": " + t.report.summary());
    int64_t lo = -1, hi = step;
    std::optional<Traced> same;
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      Traced m = trace_step(mid);
      const bool differs = m.report.verdict() == proto::STATE_DIFFERS;
      walk.push_back("step " + std::to_string(mid) + ": " +
                     (differs ? m.report.summary() : "state entering it is the same"));
      if (differs) {
        hi = mid;
        if (mid == 0) t = std::move(m);
      } else {
        lo = mid;
        same = std::move(m);
      }
    }
    if (same) t = std::move(*same);
  }
  proto::TraceReport report = t.report;
  report.set_requested_step(step);
  for (const auto& w : walk) report.add_walk(w);
  report.set_run_a(a.dir);
  report.set_run_b(b != nullptr ? b->dir : a.dir + " (executed again)");
  report.set_trace_a(t.file_a);
  report.set_trace_b(t.file_b);
  if (options.knobs) run_knobs(a, b, report.step(), t.a, t.b, options, &report);
  // Kept for the HTML report's comparison page of the pair (repro/html_report.h).
  if (b != nullptr) {
    const std::string path = trace_report_path(a.dir, b->header.run_id());
    internal::make_directories(fs::path(path).parent_path().string());
    internal::write_file_atomic(path, report.SerializeAsString());
  }
  return report;
}

}  // namespace repro
