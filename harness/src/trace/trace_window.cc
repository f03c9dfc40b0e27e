#include "trace/trace_window.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/record_function.h>
#include <spdlog/spdlog.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "repro/digest.h"
#include "repro/error.h"
#include "util/env_names.h"
#include "util/strings.h"

namespace repro {
namespace {

// The state of parameter `p`: LibTorch 1.13 keys it by the TensorImpl address as a string,
// later versions by the address itself.
template <typename Map>
auto find_state(const Map& state, const at::Tensor& p) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
    return state.find(c10::guts::to_string(p.unsafeGetTensorImpl()));
  } else {
    return state.find(p.unsafeGetTensorImpl());
  }
}

// The optimizer's per-parameter state in parameter order, for the optimizers torch ships
// with tensor state; empty when the optimizer is of another kind.
std::string optimizer_digest(const torch::optim::Optimizer& optimizer) {
  internal::NamedTensors tensors;
  const auto& state = optimizer.state();
  int64_t index = 0;
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& p : group.params()) {
      const std::string name = "param" + std::to_string(index++);
      const auto it = find_state(state, p);
      if (it == state.end()) {
        tensors.emplace_back(name + ".none", at::Tensor());
        continue;
      }
      const auto* s = it->second.get();
      if (const auto* sgd = dynamic_cast<const torch::optim::SGDParamState*>(s)) {
        tensors.emplace_back(name + ".momentum_buffer", sgd->momentum_buffer());
      } else if (const auto* adam = dynamic_cast<const torch::optim::AdamParamState*>(s)) {
        tensors.emplace_back(name + ".step", at::scalar_tensor(adam->step(), at::kLong));
        tensors.emplace_back(name + ".exp_avg", adam->exp_avg());
        tensors.emplace_back(name + ".exp_avg_sq", adam->exp_avg_sq());
        tensors.emplace_back(name + ".max_exp_avg_sq", adam->max_exp_avg_sq());
      } else if (const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(s)) {
        tensors.emplace_back(name + ".step", at::scalar_tensor(adamw->step(), at::kLong));
        tensors.emplace_back(name + ".exp_avg", adamw->exp_avg());
        tensors.emplace_back(name + ".exp_avg_sq", adamw->exp_avg_sq());
        tensors.emplace_back(name + ".max_exp_avg_sq", adamw->max_exp_avg_sq());
      } else {
        return "";
      }
    }
  }
  return digest_tensors(tensors);
}

}  // namespace

std::optional<TraceRequest> trace_request_from_env() {
  const char* step = std::getenv(internal::kEnvTraceStep);
  if (step == nullptr) return std::nullopt;
  TraceRequest r;
  r.step = internal::integer_setting(internal::kEnvTraceStep, step, 0, LLONG_MAX);
  const char* file = std::getenv(internal::kEnvTraceFile);
  if (file == nullptr || *file == '\0') {
    throw Error::usage(std::string(internal::kEnvTraceFile) + ": not set (required with " + internal::kEnvTraceStep +
                       ")");
  }
  r.file = file;
  r.stop = internal::env_flag(internal::kEnvTraceStop);
  if (const char* rank = std::getenv(internal::kEnvTraceRank); rank != nullptr && *rank != '\0') {
    r.rank = static_cast<int>(internal::integer_setting(internal::kEnvTraceRank, rank, 0, INT32_MAX));
  }
  if (const char* set = std::getenv(internal::kEnvTraceSet)) {
    std::string all = set;
    for (std::size_t pos = 0; pos <= all.size();) {
      const std::size_t semi = std::min(all.find(';', pos), all.size());
      if (semi > pos) r.overrides.push_back(all.substr(pos, semi - pos));
      pos = semi + 1;
    }
  }
  return r;
}

namespace internal {

proto::StepState capture_step_state(int64_t step, const NamedTensors& watched, const torch::optim::Optimizer* optimizer,
                                    const at::Tensor* batch) {
  const at::DisableRecordFunctionGuard no_record;
  const at::NoGradGuard no_grad;
  proto::StepState s;
  s.set_step(step);
  if (!watched.empty()) s.set_param_digest(digest_tensors(watched));
  for (const auto& [name, t] : watched) (*s.mutable_tensor_digests())[name] = digest_tensor(t);
  if (optimizer != nullptr) s.set_optimizer_digest(optimizer_digest(*optimizer));
  s.set_rng_digest(digest_tensor(at::detail::getDefaultCPUGenerator().get_state()));
  if (batch != nullptr) s.set_batch_digest(digest_tensor(*batch));
  return s;
}

TraceWindow::TraceWindow(TraceRequest request) : request_(std::move(request)) {}

TraceWindow::~TraceWindow() = default;

void TraceWindow::open(const std::string& run_id, const std::string& determinism, const NamedTensors& watched,
                       const torch::optim::Optimizer* optimizer, const at::Tensor* batch, int rank) {
  recorder_.reset();
  open_ = true;
  if (request_.rank >= 0 && rank >= 0 && rank != request_.rank) {
    spdlog::debug("trace window at step {}: rank {} traces, not this rank ({})", request_.step, request_.rank, rank);
    return;
  }
  start_.Clear();
  start_.set_run_id(run_id);
  start_.set_determinism(determinism);
  *start_.mutable_state() = capture_step_state(request_.step, watched, optimizer, batch);
  recorder_ = std::make_unique<TraceRecorder>(start_);
  spdlog::debug("trace window open at step {}", request_.step);
}

void TraceWindow::close(const at::Tensor& loss, const at::Tensor* batch) {
  open_ = false;
  if (!recorder_) return;
  proto::Trace trace = recorder_->finish({});
  recorder_.reset();
  auto* end = trace.mutable_end();
  if (loss.scalar_type() == at::kDouble) {
    end->set_loss_f64(loss.item<double>());
  } else {
    end->set_loss_f32(loss.item<float>());
  }
  if (batch != nullptr && trace.start().state().batch_digest().empty()) {
    const at::NoGradGuard no_grad;
    trace.mutable_start()->mutable_state()->set_batch_digest(digest_tensor(*batch));
  }
  write_trace(request_.file, trace);
  spdlog::info("trace of step {}: {} ops in {:.3f} s -> {}", request_.step, trace.ops_size(), trace.end().window_s(),
               request_.file);
}

}  // namespace internal
}  // namespace repro
