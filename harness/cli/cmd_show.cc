// repro show: print a run record (header, evaluations, steps).
#include <google/protobuf/text_format.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "options.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/snapshot.h"
#include "run_format.h"
#include "util/exact.h"
#include "util/strings.h"

namespace repro::cli {
namespace {

namespace fs = std::filesystem;

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string format_eval(const proto::EvalRecord& eval) {
  std::string out = eval.split() + " @ step " + std::to_string(eval.step()) + ":";
  std::map<std::string, double> sorted(eval.metrics().begin(), eval.metrics().end());
  for (const auto& [name, value] : sorted) out += " " + name + "=" + internal::shortest_text(value);
  return out;
}

// A path as a shell word: quoted only when it holds characters a shell would read.
std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789/._-+:@=,") == std::string::npos;
  if (plain) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Where the code came from and, for a dirty work tree, how to rebuild it: the commit, then the
// kept patch; untracked files and what the patch left out are named, not restored.
void add_code_rows(const RunData& run, std::vector<std::vector<std::string>>& rows) {
  const auto& c = run.header.code();
  auto row = [&rows](const std::string& key, const std::string& value) { rows.push_back({key, value}); };
  row("code", c.git_commit().empty()
                  ? "(not in a git work tree)"
                  : c.git_commit() + (c.git_dirty() ? " with uncommitted changes" : "") + " in " + c.git_root());
  row("executable", or_dash(c.executable_path()) + "  xxh3 " + or_dash(c.executable_xxh3()));
  if (!c.git_dirty() || c.git_commit().empty()) return;
  const std::string root = shell_word(c.git_root());
  const std::string checkout = "git -C " + root + " checkout " + c.git_commit();
  if (c.patch().empty()) {
    row("  restore", checkout + "  (the uncommitted changes were not kept)");
  } else {
    const std::string patch = fs::absolute(fs::path(run.dir) / c.patch()).lexically_normal().string();
    row("  patch", c.patch() + "  " + std::to_string(c.patch_size()) + " bytes of diff  xxh3 " + c.patch_xxh3());
    row("  restore", checkout + " && git -C " + root + " apply " + shell_word(patch));
  }
  if (!c.changed_files().empty()) row("  changed", internal::join(c.changed_files(), " "));
  if (!c.untracked_files().empty()) {
    row("  untracked", internal::join(c.untracked_files(), " ") + "  (listed, not kept: copy them by hand)");
  }
  for (const auto& l : c.left_out()) row("  left out", l);
}

std::string format_summary(const RunData& run) {
  const auto& h = run.header;
  std::vector<std::vector<std::string>> rows;
  auto row = [&rows](const std::string& key, const std::string& value) { rows.push_back({key, value}); };
  row("run", h.run_id());
  row("directory", run.dir);
  row("status", status_name(run.status) + (run.status_reason.empty() ? "" : " (" + run.status_reason + ")"));
  row("started", or_dash(h.started_at()));
  if (h.startup_s() > 0) {
    char startup[64];
    std::snprintf(startup, sizeof startup, "%.2f s from process start to the session", h.startup_s());
    row("startup", startup);
  }
  row("finished", or_dash(h.finished_at()));
  row("origin", or_dash(h.origin()));
  if (!h.rerun_of().empty()) row("rerun of", h.rerun_of());
  for (const auto& r : h.resumes()) {
    const auto differences = r.environment_differences_size();
    row("resumed",
        r.resumed_at() + " from step " + std::to_string(r.from_step()) + " (" +
            (r.checkpoint().empty() ? "no checkpoint" : r.checkpoint()) + ")" +
            (differences == 0 ? "" : ", environment differs: " + internal::join(r.environment_differences(), " ")));
  }
  row("argv", or_dash(internal::join(h.argv(), " ")));
  row("cwd", or_dash(h.cwd()));
  row("host, pid", or_dash(h.hostname()) + ", " + std::to_string(h.pid()));
  if (h.has_distributed()) {
    const auto& d = h.distributed();
    row("distributed", "rank " + std::to_string(d.rank()) + " of " + std::to_string(d.world_size()) + ", " +
                           d.backend() + " " + d.backend_version() + " via " + d.master_addr() + ":" +
                           std::to_string(d.master_port()));
    row("  sharding", d.sharding() + "; " + d.reduction() + " (" + std::to_string(d.bucket_bytes() >> 20) + " MiB)");
    for (const auto& r : d.ranks()) {
      row("  rank " + std::to_string(r.rank()), r.hostname() + ", pid " + std::to_string(r.pid()) + ", local rank " +
                                                    std::to_string(r.local_rank()) + ", environment " +
                                                    r.environment_digest().substr(0, 16));
    }
    for (const auto& m : d.environment_mismatches()) row("  differs", m);
    if (d.rank() == 0 && d.world_size() > 1) {
      row("  ranks",
          (d.world_size() == 2 ? std::string("ranks/1") : "ranks/1 .. ranks/" + std::to_string(d.world_size() - 1)) +
              " in this directory: each rank's own record");
    }
  }
  row("seed", std::to_string(h.seed()));
  if (!h.launcher().empty()) row("launcher", h.launcher());
  for (const auto& o : h.overrides()) row("  override", o);
  for (const auto& p : h.params()) {
    const char* source = p.source() == proto::PARAM_SOURCE_OVERRIDE ? "override"
                         : p.source() == proto::PARAM_SOURCE_CONFIG ? "config"
                                                                    : "default";
    row("  params." + p.name(),
        p.value() + " (" + source + (p.value() == p.default_value() ? "" : ", default " + p.default_value()) + ")");
  }
  row("steps", std::to_string(h.steps_completed()) + " completed / " + std::to_string(run.steps.size()) + " recorded" +
                   (run.steps_torn ? " (a torn last frame was dropped)" : ""));
  if (run.steps.empty()) {
    row("final loss", "-");
  } else {
    const auto& last = run.steps.back();
    row("final loss", internal::loss_of(last).text_with_bits() + " at step " + std::to_string(last.step()));
  }
  row("final param digest", or_dash(h.final_param_digest()));
  if (h.final_evals().empty()) row("final evals", "-");
  for (const auto& e : h.final_evals()) row("final evals", format_eval(e));
  row("evaluations", std::to_string(run.evals.size()) + " recorded");
  row("model", or_dash(h.model().name()) + ", " + std::to_string(h.model().num_parameters()) + " parameters");
  if (const auto& f = h.model().file(); !f.path().empty()) {
    row("  " + f.role(), f.path() + "  " + std::to_string(f.size()) + " bytes  xxh3 " + f.xxh3());
  }
  row("data", or_dash(h.data().source()) + " (train " + std::to_string(h.data().train_samples()) + ", validation " +
                  std::to_string(h.data().validation_samples()) + ", test " + std::to_string(h.data().test_samples()) +
                  ")");
  for (const auto& f : h.data().files()) {
    const std::string files = f.directory() ? "/  " + std::to_string(f.file_count()) + " files," : "";
    const std::string by = f.tracked_by() == proto::TRACKED_BY_ARGV ? "  (on the command line)" : "";
    row("  " + f.role(), f.path() + files + "  " + std::to_string(f.size()) + " bytes  xxh3 " + f.xxh3() + by);
  }
  add_code_rows(run, rows);
  const auto& d = h.determinism();
  row("threads", "intra-op " + std::to_string(d.intra_op_threads()) + " (requested " +
                     std::to_string(d.intra_op_threads_requested()) + "), inter-op " +
                     std::to_string(d.inter_op_threads()) + " (requested " +
                     std::to_string(d.inter_op_threads_requested()) + ")");
  row("cpu capability", or_dash(d.cpu_capability()) + " (requested " +
                            (d.cpu_capability_requested().empty() ? "none" : d.cpu_capability_requested()) + ")");
  auto requested = [](const std::string& r) { return " (requested " + (r.empty() ? "none" : r) + ")"; };
  row("oneDNN ISA", or_dash(d.onednn_effective_isa()) + requested(d.onednn_max_cpu_isa_requested()));
  row("BLAS core", or_dash(d.blas_core()) + requested(d.blas_coretype_requested()));
  row("libm variant", or_dash(d.libm_dispatch()) + requested(d.glibc_hwcaps_requested()));
  if (d.portable()) row("portable numerics", "on (determinism.portable)");
  row("deterministic algorithms", d.deterministic_algorithms() ? "on" : "off");
  std::string out = format_columns(rows);

  std::string config;
  google::protobuf::TextFormat::PrintToString(h.config(), &config);
  out += "\nconfig (resolved)\n";
  std::istringstream lines(config.empty() ? "(empty)\n" : config);
  for (std::string line; std::getline(lines, line);) out += "  " + line + "\n";
  return out;
}

// One column pair (value, bits) per recorded series: "loss" for a run with one, else each
// named value (record_step with NamedValues) in record order.
std::string format_steps(const RunData& run) {
  std::vector<std::string> series(run.header.series().begin(), run.header.series().end());
  if (series.empty() && !run.steps.empty()) {
    for (const auto& v : run.steps.front().values()) series.push_back(v.name());
  }
  std::vector<std::string> header{"step"};
  if (series.empty()) {
    header.insert(header.end(), {"loss", "loss bits"});
  } else {
    for (const auto& name : series) header.insert(header.end(), {name, name + " bits"});
  }
  header.insert(header.end(), {"lr", "grad_norm", "param digest"});
  std::vector<std::vector<std::string>> rows{header};
  for (const auto& s : run.steps) {
    std::vector<std::string> row{std::to_string(s.step())};
    if (series.empty()) {
      const internal::ExactValue loss = internal::loss_of(s);
      row.insert(row.end(), {loss.text(), or_dash(loss.bits_hex())});
    } else {
      for (std::size_t i = 0; i < series.size(); ++i) {
        internal::ExactValue v;
        if (static_cast<int>(i) < s.values_size()) {
          const auto& nv = s.values(static_cast<int>(i));
          if (nv.value_case() == proto::NamedValue::kF32) v = internal::ExactValue(nv.f32());
          if (nv.value_case() == proto::NamedValue::kF64) v = internal::ExactValue(nv.f64());
        }
        row.insert(row.end(), {v.text(), or_dash(v.bits_hex())});
      }
    }
    row.insert(row.end(),
               {internal::shortest_text(s.lr()), internal::shortest_text(s.grad_norm()), or_dash(s.param_digest())});
    rows.push_back(std::move(row));
  }
  return "\nsteps\n" + format_columns(rows);
}

std::string format_snapshot(const std::string& path, const proto::SnapshotIdentity& id) {
  std::ostringstream out;
  out << "snapshot        " << path << " (verified)\n"
      << "run             " << id.run_id() << "\n"
      << "exported from   " << id.run_dir() << " at " << id.exported_at() << "\n"
      << "model           " << id.model() << ", " << id.tensors_size() << " tensors, after " << id.steps() << " steps\n"
      << "param digest    " << id.param_digest() << "\n"
      << "config digest   " << id.config_digest() << "\n"
      << "data digest     " << id.data_digest() << "\n"
      << "code            " << (id.code().git_commit().empty() ? "(no git)" : id.code().git_commit())
      << (id.code().git_dirty() ? " (dirty)" : "") << ", executable xxh3 " << id.code().executable_xxh3() << "\n";
  return out.str();
}

}  // namespace

int run_show(const Args& args) {
  const CommandSpec spec{"show", "repro show RUN_DIR|SNAPSHOT [--json] [--steps]",
                         "Prints a run directory: run id, status (a run whose process is gone shows as\n"
                         "interrupted), origin, seed, steps, the final loss with its exact bits, evaluations, model,\n"
                         "data files and their digests, the code (git commit; for a dirty work tree the kept\n"
                         "patch and the command that restores it), determinism settings, and the resolved config.\n"
                         "With --steps, also every recorded step. With --json, a RunView (proto/run_record.proto).\n"
                         "Given a model snapshot (repro export), verifies it and prints the identity of its run."};
  po::options_description options("options");
  options.add_options()("steps", "also print every recorded step")(
      "run-dir", po::value<std::string>()->value_name("RUN_DIR"), "the run directory");
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  if (!vm.count("run-dir")) throw Error::usage("repro show: missing RUN_DIR (see 'repro show --help')");
  const bool with_steps = vm.count("steps") > 0;

  const std::string target = vm["run-dir"].as<std::string>();
  if (is_snapshot_file(target)) {
    const Snapshot snapshot = load_snapshot(target);
    std::cout << (vm.count("json") ? to_json(snapshot.identity) : format_snapshot(target, snapshot.identity))
              << std::flush;
    return kExitOk;
  }
  const RunData run = read_run(target);
  std::string out;
  if (vm.count("json")) {
    proto::RunView view = make_run_view(run);
    if (!with_steps) view.clear_steps();
    out = to_json(view);
  } else {
    out = format_summary(run);
    if (with_steps) out += format_steps(run);
  }
  std::cout << out << std::flush;
  return kExitOk;
}

}  // namespace repro::cli
