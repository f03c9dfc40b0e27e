// Private: the state behind repro::Session, shared by the files that implement its parts
// (session.cc: start, steps, end; session_data.cc: tracked data; session_params.cc:
// hyperparameters).
#pragma once

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dist/process_group.h"
#include "proto/run_config.pb.h"
#include "proto/run_record.pb.h"
#include "repro/digest.h"
#include "repro/record.h"
#include "repro/session.h"
#include "run/run_identity.h"
#include "trace/trace_window.h"
#include "util/process.h"

namespace repro {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct Session::Impl {
  proto::RunConfig config;
  SessionOptions options;
  proto::RunRecord header;
  std::unique_ptr<RunWriter> writer;
  NamedTensors watched;  // parameters then buffers; share storage with the model
  // Every watched model in watch order (session.cc, watch()): its tensors under their own
  // names and its identity. `watched` is their union, named "<model>/<tensor>" when there
  // are several (one model keeps its own names, so its digests are those of a lone watch).
  struct WatchedModel {
    std::string name;
    NamedTensors tensors;
    proto::ModelIdentity identity;
  };
  std::vector<WatchedModel> models;
  // A resumed run's model identities as recorded, taken at the first watch().
  bool recorded_models_taken = false;
  proto::ModelIdentity recorded_model;
  std::vector<proto::ModelIdentity> recorded_models;
  bool ended = false;
  bool header_dirty = false;
  int64_t last_step = -1;
  int64_t since_flush = 0;
  int64_t steps_recorded = 0;  // frames in steps.bin (a resumed run's kept ones included)
  int64_t evals_recorded = 0;
  int64_t nonfinite_steps = 0;  // with train.on_nonfinite "warn"
  bool resumed = false;
  bool created_runs_dir = false;  // a new run's runs directory did not exist before it
  std::string checkpoint_path;    // resume: the checkpoint to restore, until resume()
  std::string checkpoint_payload;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double startup_s = internal::process_age_s();  // at `start`: the record's startup_s
  std::unique_ptr<internal::TraceWindow> trace;  // REPRO_TRACE_STEP: the step this process traces
  // One rank of a data-parallel job (repro/distributed.h); null for a single process.
  std::unique_ptr<internal::ProcessGroup> group;
  struct sigaction old_int {
  }, old_term{};

  // Tracks the command line's files and directories (SessionOptions::track_argv) once the run
  // directory exists (session_data.cc).
  void track_command_line();

  // Data-parallel jobs (session_distributed.cc); each does nothing in a single process.
  void join_job();                                   // WORLD_SIZE set: join the process group
  void describe_job(const proto::Environment& env);  // header.distributed, from every rank
  // Rank r > 0: <rank 0's dir>/ranks/<r>, and the run id <rank 0's>.rank<r>; others: `dir`.
  std::string rank_run_dir(const std::string& dir);
  void job_dir_created();  // rank 0: tells the others its directory
  // Error (internal) naming the ranks whose `digest` differs from rank 0's, `when` ("step 40").
  void check_ranks_agree(const std::string& digest, const std::string& when);
  void broadcast_watched();                                 // rank 0's watched tensors on every rank
  std::pair<int64_t, int64_t> agree_on_step(int64_t step);  // least and greatest over the ranks
  at::Tensor mean_over_ranks(const at::Tensor& value);      // sum over the ranks / W (group set)

  void write_header() {
    writer->write_header(header);
    header_dirty = false;
  }

  void end(proto::RunStatus status, const std::string& reason) {
    if (ended) return;
    ended = true;
    if (nonfinite_steps > 1) spdlog::warn("{} steps had a non-finite loss or gradient norm", nonfinite_steps);
    if (!watched.empty()) header.set_final_param_digest(digest_tensors(watched));
    header.clear_final_model_digests();
    for (auto& d : model_digests()) *header.add_final_model_digests() = std::move(d);
    header.set_status(status);
    header.set_status_reason(reason);
    header.set_finished_at(internal::utc_now_rfc3339());
    write_header();
    restore_signals();
  }

  // With several watched models, each one's digest now, in watch order; empty with one.
  std::vector<proto::NamedDigest> model_digests() const {
    std::vector<proto::NamedDigest> out;
    if (models.size() < 2) return out;
    for (const auto& m : models) {
      auto& d = out.emplace_back();
      d.set_name(m.name);
      d.set_digest(digest_tensors(m.tensors));
    }
    return out;
  }

  // After step `step`: a SIGINT or SIGTERM that arrived (options.handle_signals) ends the run
  // as interrupted and is raised again, to take its usual effect (session.cc).
  void stop_if_signalled(int64_t step);

  // Records one step (session_steps.cc): the loss, and with `values` every named value (the first is
  // the loss). Both record_step overloads end here; returns the loss as recorded.
  double record(int64_t step, const at::Tensor& loss, const NamedValues* values, const StepExtras& extras);
  // The NaN/Inf guard over the step's values (the loss alone when `values` is null).
  void guard_nonfinite(int64_t step, const at::Tensor& loss, const NamedValues* values, double grad_norm);

  void open_trace(const torch::optim::Optimizer* optimizer, const at::Tensor* batch) {
    trace->open(header.run_id(), header.determinism().ShortDebugString(), watched, optimizer, batch,
                group ? group->rank() : -1);
  }

  void restore_signals() {
    if (!options.handle_signals) return;
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

}  // namespace repro
