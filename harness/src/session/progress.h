// Private: progress of a training run on stderr.
#pragma once

#include <chrono>
#include <cstdint>

namespace repro::internal {

// A one-line bar (step, loss, steps/s, ETA) redrawn in place on a terminal; elsewhere a log
// line every 10% of the steps.
// Steps per second of this process: the steps it did (from the first it saw, `first_step`, a
// resumed run's checkpoint step, to `step`, both counted) over `elapsed_s`; 0 when no time
// passed. A resumed run's earlier steps are not this process's work.
double steps_per_second(int64_t first_step, int64_t step, double elapsed_s);

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
  int64_t first_step_ = -1;  // the first step update() saw
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace repro::internal
