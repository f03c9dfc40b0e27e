// Benchmark: what an op trace window costs (repro/trace.h). Not a test: figures for README,
// measured side by side in one process so that machine noise hits both sides alike.
//
//   build/bench_trace [--rounds N]
//
// For the demo CNN (Fashion-MNIST-shaped batches of 64) and the demo MLP (256-128, same
// batches), each round times one bare training step (forward, backward, Adam step) and one
// step inside a TraceRecorder (every outermost op's inputs and outputs digested); the figures
// are the medians over rounds, and the ratio traced / bare. Steps outside a window run with no
// callback installed: their cost is the bare figure.
#include <ATen/ATen.h>
#include <torch/optim.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "models/model.h"
#include "models/models.h"
#include "repro/config.h"
#include "repro/trace.h"

namespace {

using repro::bench::Clock;
using repro::bench::median;
using repro::bench::seconds_since;

void bench_model(const std::string& label, const std::string& model_text, int rounds) {
  const auto config = repro::parse_config(model_text, "bench");
  auto model = repro::models::make_model(config.model(), {{1, 28, 28}, 10});
  std::vector<at::Tensor> params;
  for (const auto& [n, p] : model->named_parameters()) params.push_back(p);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(1e-3));
  const at::Tensor x = at::randn({64, 1, 28, 28}), y = at::randint(0, 10, {64}, at::kLong);
  auto train_step = [&] {
    optimizer.zero_grad();
    const at::Tensor loss = at::cross_entropy_loss(model->forward(x), y);
    loss.backward();
    optimizer.step();
  };
  for (int i = 0; i < 5; ++i) train_step();  // warm-up
  std::vector<double> bare, traced, ratios;
  int64_t ops = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    train_step();
    const double b = seconds_since(t0);
    t0 = Clock::now();
    repro::proto::Trace trace;
    {
      repro::TraceRecorder recorder({});
      train_step();
      trace = recorder.finish({});
    }
    const double t = seconds_since(t0);
    ops = trace.ops_size();
    bare.push_back(1000 * b);
    traced.push_back(1000 * t);
    ratios.push_back(t / b);
  }
  std::cout << label << ": " << ops << " ops per step\n"
            << "  bare step (median of " << rounds << ")    " << median(bare) << " ms\n"
            << "  traced step (median)          " << median(traced) << " ms\n"
            << "  traced / bare (median ratio)  " << median(ratios) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  repro::models::register_builtins();
  int rounds = 15;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  at::set_num_threads(1);
  at::manual_seed(1);
  bench_model("demo CNN (16-32 channels, hidden 128)", "model { cnn { channels1: 16 channels2: 32 hidden: 128 } }",
              rounds);
  bench_model("demo MLP (256-128)", "model { mlp { hidden: 256 hidden: 128 } }", rounds);
  return 0;
}
