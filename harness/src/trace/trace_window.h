// Private: the trace window a Session opens and closes (repro/trace.h, "The window").
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "repro/trace.h"

namespace at {
class Tensor;
}
namespace torch::optim {
class Optimizer;
}

namespace repro::internal {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The state entering `step` (proto::StepState). `optimizer` and `batch` may be null.
proto::StepState capture_step_state(int64_t step, const NamedTensors& watched, const torch::optim::Optimizer* optimizer,
                                    const at::Tensor* batch);

class TraceWindow {
 public:
  explicit TraceWindow(TraceRequest request);
  ~TraceWindow();
  const TraceRequest& request() const { return request_; }
  bool is_open() const { return open_; }
  // Opens the window (again: what was recorded so far is dropped) with the state taken now.
  // `rank`: this process's rank in a data-parallel job, -1 outside one. A rank other than the
  // request's (REPRO_TRACE_RANK) opens the window without recording: it closes, and stops,
  // at the same step as the rank that records.
  void open(const std::string& run_id, const std::string& determinism, const NamedTensors& watched,
            const torch::optim::Optimizer* optimizer, const at::Tensor* batch, int rank);
  // Closes it and, where it recorded, writes the trace file; `batch` fills the state's batch
  // digest when open() had none.
  void close(const at::Tensor& loss, const at::Tensor* batch);

 private:
  TraceRequest request_;
  proto::TraceStart start_;
  std::unique_ptr<TraceRecorder> recorder_;  // null where this rank does not record
  bool open_ = false;
};

// A call that bypasses ATen's dispatcher — a c10d collective, which runs on Gloo's threads —
// recorded as one op of an open window (repro/trace.h, "Collectives"): construct it with the
// inputs before the call, finish() with the outputs after. Records nothing when no window
// records on this thread, or inside another traced op.
class ExternalOp {
 public:
  ExternalOp(const char* name, const std::vector<at::Tensor>& inputs);
  ~ExternalOp();
  // Ops run between construction and finish() are part of this one, not recorded.
  void finish(const std::vector<at::Tensor>& outputs);
  ExternalOp(const ExternalOp&) = delete;
  ExternalOp& operator=(const ExternalOp&) = delete;

 private:
  long long index_ = -1;  // the op's slot in the recording
};

}  // namespace repro::internal
