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
  bool is_open() const { return recorder_ != nullptr; }
  // Opens the window (again: what was recorded so far is dropped) with the state taken now.
  void open(const std::string& run_id, const std::string& determinism, const NamedTensors& watched,
            const torch::optim::Optimizer* optimizer, const at::Tensor* batch);
  // Closes it and writes the trace file; `batch` fills the state's batch digest when open() had none.
  void close(const at::Tensor& loss, const at::Tensor* batch);

 private:
  TraceRequest request_;
  proto::TraceStart start_;
  std::unique_ptr<TraceRecorder> recorder_;
};

}  // namespace repro::internal
