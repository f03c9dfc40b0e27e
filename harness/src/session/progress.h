// Private: progress of a training run on stderr.
#pragma once

#include <chrono>
#include <cstdint>

namespace repro::internal {

// A one-line bar (step, loss, steps/s, ETA) redrawn in place on a terminal; elsewhere a log
// line every 10% of the steps.
class Progress {
 public:
  explicit Progress(int64_t total_steps);
  ~Progress();
  void update(int64_t step, double loss);
  void done();

 private:
  int64_t total_;
  bool tty_;
  bool open_ = false;
  int64_t next_log_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace repro::internal
