#include "repro/session.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>
#include <torch/nn/module.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <set>
#include <sstream>

#include "repro/checkpoint.h"
#include "repro/config.h"
#include "repro/determinism.h"
#include "repro/digest.h"
#include "repro/error.h"
#include "repro/log.h"
#include "repro/record.h"
#include "run/code_patch.h"
#include "run/record_text.h"
#include "run/run_identity.h"
#include "session/launch_environment.h"
#include "session/session_impl.h"
#include "session/session_resume.h"
#include "trace/trace_window.h"
#include "util/env_names.h"
#include "util/process.h"
#include "util/strings.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
  g_signal.store(sig);
  std::signal(sig, SIG_DFL);  // a second Ctrl-C stops at once
}

}  // namespace

Session::Session(proto::RunConfig config, SessionOptions options) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  internal::keep_freed_memory_for_reuse();  // before the program's steps allocate
  if (auto request = trace_request_from_env()) {
    for (const auto& assignment : request->overrides) apply_override(&config, assignment);
    s.trace = std::make_unique<internal::TraceWindow>(std::move(*request));
  }
  if (!options.resume_dir.empty()) {
    s.options = std::move(options);
    s.join_job();  // a resumed rank r continues <run dir>/ranks/<r>
    if (s.group && s.group->rank() > 0) s.options.resume_dir += "/ranks/" + std::to_string(s.group->rank());
    internal::AgreeOnStep agree;
    if (s.group) agree = [&s](int64_t step) { return s.agree_on_step(step); };
    internal::ReopenedRun r = internal::reopen_run(s.options.resume_dir, config, s.options.strict_resume, agree);
    s.config = std::move(r.config);
    s.header = std::move(r.header);
    s.writer = std::move(r.writer);
    s.resumed = true;
    s.checkpoint_path = std::move(r.checkpoint_path);
    s.checkpoint_payload = std::move(r.checkpoint_payload);
    s.steps_recorded = r.counts.steps_recorded;
    s.evals_recorded = r.counts.evals_recorded;
    s.last_step = r.counts.last_step;
    // elapsed_s continues from the last kept step
    s.start -=
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(r.elapsed_s));
  } else {
    start_new(std::move(config), std::move(options));
  }
  const std::string& dir = s.writer->dir();
  if (s.options.log_file) add_log_file(dir + "/run.log");
  spdlog::debug("run {} recording into {}", s.header.run_id(), dir);

  if (s.options.handle_signals) {
    g_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &s.old_int);
    sigaction(SIGTERM, &sa, &s.old_term);
  }
}

void Session::Impl::stop_if_signalled(int64_t step) {
  const int sig = g_signal.load();
  if (sig == 0 || !options.handle_signals) return;
  const std::string name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal " + std::to_string(sig);
  spdlog::warn("{} received: run {} stops after step {}", name, header.run_id(), step);
  end(proto::INTERRUPTED, name + " after step " + std::to_string(step));
  std::raise(sig);  // the handler was reset to the default: the signal now takes its usual effect
}

void Session::start_new(proto::RunConfig config, SessionOptions options) {
  auto& s = *impl_;
  internal::apply_launch_environment(&config, &s.header);  // REPRO_SET, REPRO_SEED, REPRO_LAUNCHER
  resolve_config(&config);
  validate_determinism(config.determinism(), "SessionOptions::config");
  if (config.seed() == 0) config.set_seed(draw_seed());
  s.options = std::move(options);

  proto::Environment env;
  *s.header.mutable_determinism() = apply_determinism(config.determinism(), config.seed(), &env);
  s.join_job();  // after the pins, before any work the ranks must agree on
  auto* torch_seed = s.header.add_seeds();
  torch_seed->set_purpose("torch.default");
  torch_seed->set_seed(derive_seed(config.seed(), "torch.default"));

  auto& h = s.header;
  h.set_run_id(internal::make_run_id(config_run_name(config)));
  h.set_started_at(internal::utc_now_rfc3339());
  const auto argv = s.options.argv.empty() ? internal::process_argv() : s.options.argv;
  for (const auto& a : argv) h.add_argv(a);
  h.set_cwd(internal::current_dir());
  h.set_hostname(env.os().hostname());
  h.set_pid(getpid());
  h.set_origin(s.options.origin);
  h.set_startup_s(std::max(0.0, s.startup_s));
  *h.mutable_config() = config;
  h.set_config_digest(config_digest(config));
  h.set_seed(config.seed());
  *h.mutable_environment() = env;
  std::string code_patch;  // a dirty work tree's patch, written once the run directory exists
  *h.mutable_code() = internal::capture_code_identity(h.cwd(), env, s.options.patch_limit, &code_patch);
  h.mutable_data()->set_source(config.data().source());
  for (const auto& f : internal::fingerprint_data_files(config.data())) *h.mutable_data()->add_files() = f;
  if (config.model().has_torchscript()) {
    *h.mutable_model()->mutable_file() = internal::fingerprint_file("torchscript", config.model().torchscript().path());
  }
  if (const char* of = std::getenv(internal::kEnvRerunOf)) h.set_rerun_of(of);
  h.set_status(proto::RUNNING);
  s.config = std::move(config);
  s.describe_job(env);

  std::string dir = s.options.run_dir;
  if (dir.empty()) {
    if (const char* d = std::getenv(internal::kEnvRunDir)) {
      dir = d;
      // The launcher that chose the directory named the run after it.
      if (const char* id = std::getenv(internal::kEnvRunId); id != nullptr && *id != '\0') h.set_run_id(id);
    }
  }
  if (dir.empty()) {
    const std::string runs = s.options.runs_dir.empty() ? s.config.record().runs_dir() : s.options.runs_dir;
    dir = runs + "/" + h.run_id();
  }
  dir = s.rank_run_dir(dir);
  // The record must read back: facts of the system keep their bad bytes escaped, text the user
  // chose (command line, paths, config values) must be UTF-8, before the run directory exists.
  internal::escape_invalid_text(h.mutable_environment());
  internal::escape_invalid_text(h.mutable_code());
  h.set_hostname(internal::escape_invalid_utf8(h.hostname()));
  internal::require_valid_text(h, "run record");
  if (!internal::is_valid_utf8(dir)) {
    throw Error::usage("run directory \"" + internal::escape_invalid_utf8(dir) +
                       "\" is not valid UTF-8; a run record keeps its text as UTF-8: use a path in UTF-8");
  }
  std::error_code ec;
  const fs::path parent = fs::path(dir).parent_path();
  s.created_runs_dir = !parent.empty() && !fs::exists(parent, ec);
  s.writer = RunWriter::create(dir, h);
  s.job_dir_created();
  if (!code_patch.empty() && !internal::write_code_patch(s.writer->dir(), code_patch, h.mutable_code())) {
    s.write_header();
  }
  if (s.options.track_argv) s.track_command_line();
}

Session::~Session() {
  if (!impl_ || impl_->ended) return;
  try {
    impl_->end(proto::FAILED,
               std::uncaught_exceptions() > 0 ? "exception while training" : "session ended without finish()");
  } catch (const std::exception& e) {
    spdlog::warn("cannot record the end of run {}: {}", impl_->header.run_id(), e.what());
  }
}

std::uint64_t Session::seed() const { return impl_->config.seed(); }

std::uint64_t Session::seed(const std::string& purpose) {
  const std::uint64_t value = derive_seed(impl_->config.seed(), purpose);
  for (const auto& s : impl_->header.seeds()) {
    if (s.purpose() == purpose) return value;
  }
  auto* s = impl_->header.add_seeds();
  s->set_purpose(purpose);
  s->set_seed(value);
  impl_->header_dirty = true;
  return value;
}

std::mt19937_64 Session::rng(const std::string& purpose) { return std::mt19937_64(seed("user/" + purpose)); }

void Session::watch(const torch::nn::Module& module, const std::string& name) {
  NamedTensors params, buffers;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) params.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) buffers.emplace_back(b.key(), b.value());
  std::ostringstream summary;
  module.pretty_print(summary);
  watch(params, buffers, name.empty() ? module.name() : name, summary.str());
}

void Session::watch(
    const std::vector<std::pair<std::string, std::reference_wrapper<const torch::nn::Module>>>& modules) {
  std::set<std::string> names;
  for (const auto& [name, module] : modules) {
    const std::string n = name.empty() ? module.get().name() : name;
    if (!names.insert(n).second) throw Error::usage("watch: the model name '" + n + "' is given twice");
  }
  for (const auto& [name, module] : modules) watch(module.get(), name);
}

void Session::watch(const NamedTensors& parameters, const NamedTensors& buffers, const std::string& name,
                    const std::string& summary) {
  auto& s = *impl_;
  if (name.empty()) throw Error::usage("watch: the model needs a name");
  if (s.resumed && !s.recorded_models_taken) {
    s.recorded_models_taken = true;
    s.recorded_model = s.header.model();
    s.recorded_models.assign(s.header.models().begin(), s.header.models().end());
  }
  Impl::WatchedModel m;
  m.name = name;
  auto& id = m.identity;
  id.set_name(name);
  id.set_summary(summary);
  int64_t count = 0;
  auto add = [&](const std::pair<std::string, at::Tensor>& nt, bool parameter) {
    auto* info = id.add_tensors();
    info->set_name(nt.first);
    for (const auto d : nt.second.sizes()) info->add_shape(d);
    info->set_dtype(c10::toString(nt.second.scalar_type()));
    info->set_parameter(parameter);
    info->set_trainable(nt.second.requires_grad());
    if (parameter) count += nt.second.numel();
    m.tensors.push_back(nt);
  };
  for (const auto& p : parameters) add(p, true);
  for (const auto& b : buffers) add(b, false);
  id.set_num_parameters(count);
  id.set_initial_digest(digest_tensors(m.tensors));
  if (s.resumed) {
    // The recorded initial digest stays; a different one is worth a warning (another init).
    const proto::ModelIdentity* recorded = nullptr;
    for (const auto& r : s.recorded_models) {
      if (r.name() == name) recorded = &r;
    }
    if (recorded == nullptr && s.recorded_models.empty() && s.recorded_model.name() == name) {
      recorded = &s.recorded_model;  // a record from before several models
    }
    if (recorded != nullptr && !recorded->initial_digest().empty()) {
      if (recorded->initial_digest() != id.initial_digest()) {
        spdlog::warn("resume: the initial digest {} of model {} differs from the recorded {}", id.initial_digest(),
                     name, recorded->initial_digest());
      }
      id.set_initial_digest(recorded->initial_digest());
    }
  }
  bool replaced = false;
  for (auto& old : s.models) {
    if (old.name == name) {
      old = std::move(m);
      replaced = true;
      break;
    }
  }
  if (!replaced) s.models.push_back(std::move(m));

  // `watched` and the header's model: the one model as it is, or the union of several.
  auto* model = s.header.mutable_model();
  const proto::InputFile file = model->file();  // digested at the start; stays
  s.watched.clear();
  s.header.clear_models();
  if (s.models.size() == 1) {
    *model = s.models.front().identity;
    s.watched = s.models.front().tensors;
  } else {
    model->Clear();
    std::string names, summaries;
    int64_t total = 0;
    for (const auto& w : s.models) {
      names += (names.empty() ? "" : "+") + w.name;
      summaries += w.name + ": " + w.identity.summary() + "\n";
      total += w.identity.num_parameters();
      for (int i = 0; i < w.identity.tensors_size(); ++i) {
        auto* info = model->add_tensors();
        *info = w.identity.tensors(i);
        info->set_name(w.name + "/" + info->name());
        s.watched.emplace_back(info->name(), w.tensors[static_cast<std::size_t>(i)].second);
      }
    }
    model->set_name(names);
    model->set_summary(summaries);
    model->set_num_parameters(total);
    const bool keep_recorded =
        s.resumed && s.recorded_model.name() == names && !s.recorded_model.initial_digest().empty();
    model->set_initial_digest(keep_recorded ? s.recorded_model.initial_digest() : digest_tensors(s.watched));
  }
  if (!file.path().empty()) *model->mutable_file() = file;
  for (const auto& w : s.models) *s.header.add_models() = w.identity;
  if (s.group) {
    try {
      s.check_ranks_agree(digest_tensors(s.watched), "before the first step (model " + name + ")");
    } catch (const Error& e) {
      s.end(proto::FAILED, e.what());
      throw;
    }
    s.broadcast_watched();
  }
  s.write_header();
  if (s.trace && s.trace->request().step == 0 && s.last_step < 0) s.open_trace(nullptr, nullptr);
}

void Session::record_eval(int64_t step, const std::string& split, const std::map<std::string, double>& metrics) {
  auto& s = *impl_;
  proto::EvalRecord e;
  e.set_step(step);
  e.set_split(split);
  for (const auto& [k, v] : metrics) (*e.mutable_metrics())[k] = v;
  s.writer->append_eval(e);
  ++s.evals_recorded;
  // The header keeps the latest evaluation of each split.
  auto* evals = s.header.mutable_final_evals();
  for (int i = 0; i < evals->size(); ++i) {
    if (evals->Get(i).split() == split) {
      evals->DeleteSubrange(i, 1);
      break;
    }
  }
  *evals->Add() = e;
  s.header_dirty = true;
}

void Session::record_split(const at::Tensor& train_indices, const at::Tensor& validation_indices,
                           int64_t test_samples) {
  auto* data = impl_->header.mutable_data();
  data->set_train_samples(train_indices.numel());
  data->set_validation_samples(validation_indices.numel());
  data->set_test_samples(test_samples);
  Hasher h;
  for (const auto* t : {&train_indices, &validation_indices}) {
    const at::Tensor c = t->to(at::kLong).contiguous();
    h.update(c.data_ptr(), c.numel() * c.element_size());
  }
  data->set_split_digest(h.hex_digest());
  impl_->header_dirty = true;
}

void Session::record_epoch_order(int64_t epoch, const at::Tensor& order) {
  auto* data = impl_->header.mutable_data();
  if (epoch != data->epoch_order_digests_size()) return;  // each epoch once, in order
  const at::Tensor c = order.to(at::kLong).contiguous();
  data->add_epoch_order_digests(digest_bytes(c.data_ptr(), c.numel() * c.element_size()));
  impl_->header_dirty = true;
}

std::string Session::param_digest() const { return digest_tensors(impl_->watched); }

void Session::save_checkpoint(const CheckpointState& state, torch::optim::Optimizer* optimizer,
                              const CheckpointSaveHook& user) {
  auto& s = *impl_;
  if (s.watched.empty()) throw Error::usage("save_checkpoint: call watch() first");
  s.write_header();  // flushes the streams: a checkpoint never covers steps that are not on disk
  const internal::CheckpointCounts counts{s.steps_recorded, s.evals_recorded, s.last_step};
  const std::string payload = internal::save_checkpoint_archive(state, counts, s.watched, optimizer, user);
  write_checkpoint_file(s.writer->dir(), state.step, payload, s.config.train().keep_checkpoints());
  spdlog::debug("checkpoint after {} steps: {}", state.step, checkpoint_path(s.writer->dir(), state.step));
}

std::optional<CheckpointState> Session::resume(torch::optim::Optimizer* optimizer, const CheckpointLoadHook& user) {
  auto& s = *impl_;
  if (s.watched.empty()) throw Error::usage("resume: call watch() first");
  if (s.checkpoint_payload.empty()) return std::nullopt;
  const std::string payload = std::move(s.checkpoint_payload);
  s.checkpoint_payload.clear();
  return internal::restore_checkpoint_archive(payload, s.checkpoint_path, s.watched, optimizer, user);
}

bool Session::resumed() const { return impl_->resumed; }

void Session::finish() {
  auto& s = *impl_;
  if (s.group && !s.ended && !s.watched.empty()) {
    try {
      s.check_ranks_agree(digest_tensors(s.watched), "at the end");
    } catch (const Error& e) {
      s.end(proto::FAILED, e.what());
      throw;
    }
  }
  s.end(proto::FINISHED, "");
}

void Session::fail(const std::string& reason) { impl_->end(proto::FAILED, reason); }

void Session::abandon(const std::string& reason) {
  auto& s = *impl_;
  if (s.ended) return;
  if (s.resumed || s.steps_recorded > 0) return fail(reason);
  s.ended = true;
  s.restore_signals();
  const fs::path dir = s.writer->dir();
  remove_log_file((dir / "run.log").string());
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) spdlog::warn("cannot remove {} of a run that never started: {}", dir.string(), ec.message());
  if (s.created_runs_dir) fs::remove(dir.parent_path(), ec);  // only when empty
  spdlog::debug("run {} never started ({}); its directory is removed", s.header.run_id(), reason);
}

const std::string& Session::run_dir() const { return impl_->writer->dir(); }
const std::string& Session::run_id() const { return impl_->header.run_id(); }
const proto::RunConfig& Session::config() const { return impl_->config; }
const proto::RunRecord& Session::header() const { return impl_->header; }

}  // namespace repro
