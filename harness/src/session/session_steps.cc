// repro/session.h: the steps of a run: begin_step, record_step and the NaN/Inf guard.
#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "repro/digest.h"
#include "repro/error.h"
#include "repro/session.h"
#include "session/nonfinite_guard.h"
#include "session/session_impl.h"
#include "trace/trace_window.h"

namespace repro {

void Session::begin_step(int64_t step, const torch::optim::Optimizer* optimizer, const at::Tensor* batch) {
  auto& s = *impl_;
  if (s.trace && s.trace->request().step == step) s.open_trace(optimizer, batch);
}

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

double Session::record_step(int64_t step, const at::Tensor& loss, const StepExtras& extras) {
  auto& s = *impl_;
  if (s.header.series_size() > 0) {
    throw Error::usage(
        "record_step: step " + std::to_string(step) + " records one loss, but this run records the named values " +
        joined({s.header.series().begin(), s.header.series().end()}) + " (the same names at every step)");
  }
  return s.record(step, loss, nullptr, extras);
}

double Session::record_step(int64_t step, const NamedValues& values, const StepExtras& extras) {
  auto& s = *impl_;
  const std::string at_step = "record_step: step " + std::to_string(step);
  if (values.empty()) throw Error::usage(at_step + ": no named values");
  std::vector<std::string> names;
  for (const auto& [name, value] : values) {
    if (name.empty()) throw Error::usage(at_step + ": a value without a name");
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      throw Error::usage(at_step + ": the name '" + name + "' is given twice");
    }
    if (!value.defined() || value.numel() != 1) {
      throw Error::usage(at_step + ": '" + name + "' is not a scalar tensor" +
                         (value.defined() ? " (" + std::to_string(value.numel()) + " elements)" : " (undefined)"));
    }
    names.push_back(name);
  }
  const std::vector<std::string> series(s.header.series().begin(), s.header.series().end());
  if (series.empty() && s.steps_recorded > 0) {
    throw Error::usage(at_step + " records named values " + joined(names) +
                       ", but earlier steps of this run recorded one loss (the same kind at every step)");
  }
  if (!series.empty() && series != names) {
    throw Error::usage(at_step + " records " + joined(names) + ", but earlier steps recorded " + joined(series) +
                       " (the same names, in the same order, at every step)");
  }
  return s.record(step, values.front().second, &values, extras);
}

double Session::Impl::record(int64_t step, const at::Tensor& loss, const NamedValues* values,
                             const StepExtras& extras) {
  auto& s = *this;
  if (s.ended) throw Error::usage("record_step: the run has ended");
  if (step <= s.last_step) {
    throw Error::usage("record_step: step " + std::to_string(step) + " after step " + std::to_string(s.last_step) +
                       "; steps must increase");
  }
  if (values != nullptr && s.header.series_size() == 0) {
    for (const auto& v : *values) s.header.add_series(v.first);
    s.header_dirty = true;
  }
  const bool traced = s.trace && s.trace->is_open() && s.trace->request().step == step;
  if (traced) s.trace->close(loss, extras.batch);  // before this call's own ops
  proto::StepRecord r;
  r.set_step(step);
  auto exact = [](const at::Tensor& value, proto::NamedValue* v) {
    if (value.scalar_type() == at::kDouble) {
      v->set_f64(value.item<double>());
    } else {
      v->set_f32(value.item<float>());
    }
  };
  // A data-parallel run records the mean over the ranks (the same bits on every rank).
  const at::Tensor recorded = group ? mean_over_ranks(loss) : loss;
  if (group) {
    r.mutable_local_loss()->set_name("rank" + std::to_string(group->rank()) + "/loss");
    exact(loss, r.mutable_local_loss());
  }
  const double recorded_loss = recorded.item<double>();  // exact: a float widens, and narrows back
  if (recorded.scalar_type() == at::kDouble) {
    r.set_loss_f64(recorded_loss);
  } else {
    r.set_loss_f32(static_cast<float>(recorded_loss));
  }
  if (values != nullptr) {
    for (const auto& [name, value] : *values) {
      auto* v = r.add_values();
      v->set_name(name);
      exact(group ? mean_over_ranks(value) : value, v);
    }
  }
  if (extras.lr >= 0) r.set_lr(extras.lr);
  if (!(extras.grad_norm < 0)) r.set_grad_norm(extras.grad_norm);  // NaN included
  if (extras.epoch >= 0) r.set_epoch(extras.epoch);
  const int64_t every = s.config.record().param_digest_every();
  if (every > 0 && step % every == 0 && !s.watched.empty()) {
    r.set_param_digest(digest_tensors(s.watched));
    for (auto& d : model_digests()) *r.add_model_digests() = std::move(d);
  }
  std::string out_of_step;  // a data-parallel rank whose parameters left rank 0's
  if (group && !r.param_digest().empty()) {
    try {
      check_ranks_agree(r.param_digest(), "step " + std::to_string(step));
    } catch (const Error& e) {
      out_of_step = e.what();
    }
  }
  if (s.config.record().batch_digest() && extras.batch != nullptr) r.set_batch_digest(digest_tensor(*extras.batch));
  r.set_elapsed_s(std::chrono::duration<double>(std::chrono::steady_clock::now() - s.start).count());
  s.writer->append_step(r);
  ++s.steps_recorded;
  s.last_step = step;
  s.header.set_steps_completed(s.header.steps_completed() + 1);
  if (++s.since_flush >= s.config.record().flush_every()) {
    s.since_flush = 0;
    s.writer->flush();
    if (s.header_dirty) s.write_header();
  }
  if (!out_of_step.empty()) {
    s.end(proto::FAILED, out_of_step);  // the step is recorded, with its digest
    throw Error::internal(out_of_step);
  }
  if (traced && s.trace->request().stop) {
    const std::string reason = "stopped after the trace window at step " + std::to_string(step);
    spdlog::info("run {} {}", s.header.run_id(), reason);
    s.end(proto::INTERRUPTED, reason);
    // Left uncaught, the exception ends the process without unwinding: flush what it printed.
    spdlog::default_logger()->flush();
    std::fflush(nullptr);
    throw TraceWindowClosed(reason, step);
  }
  guard_nonfinite(step, recorded, values, extras.grad_norm);
  if (s.trace && s.trace->request().step == step + 1) s.open_trace(nullptr, nullptr);
  s.stop_if_signalled(step);
  return recorded_loss;
}

void Session::guard_nonfinite(int64_t step, const at::Tensor& loss, double grad_norm) {
  impl_->guard_nonfinite(step, loss, nullptr, grad_norm);
}

void Session::Impl::guard_nonfinite(int64_t step, const at::Tensor& loss, const NamedValues* values, double grad_norm) {
  const auto found = values != nullptr ? internal::find_nonfinite(step, *values, grad_norm, watched)
                                       : internal::find_nonfinite(step, loss, grad_norm, watched);
  if (!found) return;
  if (config.train().on_nonfinite() == "warn") {
    if (nonfinite_steps++ == 0) spdlog::warn("{} (train.on_nonfinite: warn, the run goes on)", found->message);
    return;
  }
  // The caller reports the exception: `repro run` prints one line with this reason.
  end(proto::FAILED, found->message);
  throw NonFiniteError(found->message, step, found->tensor);
}

}  // namespace repro
