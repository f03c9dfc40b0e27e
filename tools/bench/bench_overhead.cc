// Benchmark: what recording costs. Not a test: figures for README, measured side by side in
// one process so that machine noise hits both sides alike.
//
//   build/bench_overhead [--rounds N] [--steps K]
//
// 1. Training-step overhead of a Session with a parameter digest every step, on the demo CNN
//    (Fashion-MNIST-shaped batches of 64): rounds alternate K bare steps and K recorded steps;
//    the figure is the median over rounds of (recorded time / bare time).
// 2. XXH3-128 digest throughput against memcpy on a 64 MiB float tensor: digest_tensor (the
//    kernel chosen for this CPU), and each XXH3 kernel the CPU runs on the same bytes, in
//    interleaved rounds.
#include <ATen/ATen.h>
#include <torch/optim.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

#include "bench_util.h"
#include "models/model.h"
#include "models/models.h"
#include "repro/config.h"
#include "repro/digest.h"
#include "repro/session.h"
#include "util/xxh3_kernels.h"

namespace {

using repro::bench::Clock;
using repro::bench::median;
using repro::bench::seconds_since;

void bench_session(int rounds, int steps) {
  const std::string dir = (std::filesystem::temp_directory_path() / "repro-bench-runs").string();
  std::filesystem::remove_all(dir);
  repro::proto::RunConfig config = repro::parse_config(
      "seed: 1\nmodel { cnn { channels1: 16 channels2: 32 hidden: 128 } }\n"
      "record { param_digest_every: 1 flush_every: 50 }\n",
      "bench");
  repro::SessionOptions options;
  options.runs_dir = dir;
  options.handle_signals = false;
  options.log_file = false;
  repro::Session session(config, options);
  auto model = repro::models::make_model(session.config().model(), {{1, 28, 28}, 10});
  session.watch(model->named_parameters(), model->named_buffers(), model->name(), model->summary());
  std::vector<at::Tensor> params;
  for (const auto& [n, p] : model->named_parameters()) params.push_back(p);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(1e-3));
  const at::Tensor x = at::randn({64, 1, 28, 28}), y = at::randint(0, 10, {64}, at::kLong);
  int64_t step = 0;
  auto train_step = [&](bool record) {
    optimizer.zero_grad();
    const at::Tensor loss = at::cross_entropy_loss(model->forward(x), y);
    loss.backward();
    optimizer.step();
    if (record) session.record_step(step, loss);
    ++step;
  };
  for (int i = 0; i < steps; ++i) train_step(false);  // warm-up
  std::vector<double> ratios, bare_ms;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) train_step(false);
    const double bare = seconds_since(t0);
    t0 = Clock::now();
    for (int i = 0; i < steps; ++i) train_step(true);
    const double recorded = seconds_since(t0);
    ratios.push_back(recorded / bare);
    bare_ms.push_back(1000 * bare / steps);
  }
  session.finish();
  std::filesystem::remove_all(dir);
  std::cout << "session overhead, demo CNN, param digest every step\n"
            << "  bare step (median)            " << median(bare_ms) << " ms\n"
            << "  recorded / bare (median of " << rounds << ") " << median(ratios) << "\n";
}

void bench_digest(int reps) {
  const at::Tensor t = at::rand({16 * 1024 * 1024});  // 64 MiB of float32
  std::vector<char> dst(t.numel() * 4);
  const auto kernels = repro::internal::xxh3_kernels();
  std::vector<double> copy_s, digest_s;
  std::vector<std::vector<double>> kernel_s(kernels.size());
  std::string sink;
  std::uint64_t kernel_sink = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    std::memcpy(dst.data(), t.data_ptr(), dst.size());
    copy_s.push_back(seconds_since(t0));
    t0 = Clock::now();
    sink = repro::digest_tensor(t);
    digest_s.push_back(seconds_since(t0));
    for (std::size_t k = 0; k < kernels.size(); ++k) {
      t0 = Clock::now();
      kernel_sink ^= kernels[k]->hash(t.data_ptr(), dst.size()).low64;
      kernel_s[k].push_back(seconds_since(t0));
    }
  }
  const double gb = static_cast<double>(dst.size()) / 1e9, copy = median(copy_s);
  std::printf("64 MiB float tensor (median of %d interleaved rounds)\n", reps);
  std::printf("  %-34s %6.1f GB/s\n", "memcpy", gb / copy);
  const std::string chosen = std::string("digest_tensor (XXH3-128, ") + repro::internal::xxh3_kernel().name + ")";
  std::printf("  %-34s %6.1f GB/s, %.2f x the memcpy time\n", chosen.c_str(), gb / median(digest_s),
              median(digest_s) / copy);
  for (std::size_t k = 0; k < kernels.size(); ++k) {
    const std::string name = std::string("XXH3-128 kernel ") + kernels[k]->name;
    std::printf("  %-34s %6.1f GB/s, %.2f x the memcpy time\n", name.c_str(), gb / median(kernel_s[k]),
                median(kernel_s[k]) / copy);
  }
  if (kernel_sink == 42) std::cout << " \n";  // keeps the hashes from being optimised away
}

}  // namespace

int main(int argc, char** argv) {
  repro::models::register_builtins();
  int rounds = 15, steps = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--steps") steps = std::max(1, std::atoi(argv[i + 1]));
  }
  bench_digest(15);
  bench_session(rounds, steps);
  return 0;
}
