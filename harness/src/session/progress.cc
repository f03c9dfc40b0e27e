#include "session/progress.h"

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cstdio>

namespace repro::internal {

double steps_per_second(int64_t first_step, int64_t step, double elapsed_s) {
  return elapsed_s > 0 ? static_cast<double>(step - first_step + 1) / elapsed_s : 0;
}

Progress::Progress(int64_t total_steps)
    : total_(total_steps), tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()), last_draw_() {}

Progress::~Progress() { done(); }

void Progress::update(int64_t step, double loss) {
  const auto now = std::chrono::steady_clock::now();
  const int64_t done_steps = step + 1;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (first_step_ < 0) first_step_ = step;
  const double rate = steps_per_second(first_step_, step, elapsed);
  const double eta = rate > 0 ? (total_ - done_steps) / rate : 0;
  if (tty_) {
    if (done_steps != total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 30;
    const int filled = static_cast<int>(width * done_steps / std::max<int64_t>(total_, 1));
    std::fprintf(stderr, "\r[%.*s%*s] step %lld/%lld  loss %.4f  %.1f steps/s  ETA %.0fs   ", filled,
                 "##############################", width - filled, "", static_cast<long long>(done_steps),
                 static_cast<long long>(total_), loss, rate, eta);
    std::fflush(stderr);
    open_ = true;
    return;
  }
  if (done_steps >= next_log_ || done_steps == total_) {
    spdlog::info("step {}/{}  loss {:.4f}  {:.1f} steps/s  ETA {:.0f}s", done_steps, total_, loss, rate, eta);
    next_log_ = done_steps + std::max<int64_t>(total_ / 10, 1);
  }
}

void Progress::done() {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
}

}  // namespace repro::internal
