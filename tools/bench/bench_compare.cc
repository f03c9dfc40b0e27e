// Benchmark: how long `repro compare` takes on long records. Not a test: a figure for README.
//
//   build/bench_compare [--steps K] [--rounds N]
//
// Writes two runs of K steps (default 100000) with RunWriter into a temporary directory: f32
// losses, a parameter digest every 10 steps and a batch digest every step, run B differing from
// step K/2. Then times read_run of both plus compare_runs; the figure is the median over rounds.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "repro/compare.h"
#include "repro/record.h"

namespace {

using Clock = std::chrono::steady_clock;

void write_run(const std::string& dir, int64_t steps, int64_t differ_from) {
  repro::proto::RunRecord header;
  header.set_run_id(dir.substr(dir.rfind('/') + 1));
  header.set_status(repro::proto::FINISHED);
  header.mutable_config()->set_seed(1);
  auto writer = repro::RunWriter::create(dir, header);
  repro::proto::StepRecord step;
  for (int64_t s = 0; s < steps; ++s) {
    step.Clear();
    step.set_step(s);
    float loss = 2.0f / std::sqrt(static_cast<float>(s + 1));
    if (s >= differ_from) loss = std::nextafter(loss, 10.0f);
    step.set_loss_f32(loss);
    step.set_lr(0.1);
    step.set_grad_norm(1.0 / static_cast<double>(s + 1));
    step.set_batch_digest("0123456789abcdef0123456789abcdef");
    if (s % 10 == 0) step.set_param_digest(std::string(32, s >= differ_from ? 'b' : 'a'));
    step.set_elapsed_s(0.001 * static_cast<double>(s));
    writer->append_step(step);
  }
  writer->flush();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 100000;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  const auto tmp = std::filesystem::temp_directory_path() / "repro-bench-compare";
  std::filesystem::remove_all(tmp);
  const std::string a = (tmp / "a").string(), b = (tmp / "b").string();
  write_run(a, steps, steps);
  write_run(b, steps, steps / 2);

  std::vector<double> times;
  repro::proto::ComparisonReport report;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = Clock::now();
    const repro::RunData run_a = repro::read_run(a), run_b = repro::read_run(b);
    report = repro::compare_runs(run_a, run_b);
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  std::cout << "compare of two " << steps << "-step runs (read_run x2 + compare_runs): median "
            << times[times.size() / 2] << " s over " << rounds << " rounds (min " << times.front() << " s)\n"
            << "verdict " << repro::proto::Verdict_Name(report.verdict()) << ", first divergent step "
            << report.first_divergent_step() << "\n";
  std::filesystem::remove_all(tmp);
  return 0;
}
