// A user's training program for the `repro trace` scenarios. Modes:
//   plain   a small deterministic MLP (tracing must not change its numbers)
//   jitter  the same MLP with a custom op, registered with TORCH_LIBRARY, that adds a tiny
//           perturbation drawn from std::random_device: a non-deterministic op no seed controls
//   reduce  a wide layer whose loss centres 64 x 1024 activations on their mean: a full
//           reduction over 65536 floats feeds the gradient, and its float sum changes in the
//           last bit between 1 and 2 intra-op threads
//
//   trace_trainer RUNS_DIR MODE [INTRA_OP_THREADS] [SEED]
// Prints the run directory. Calls Session::begin_step with the optimizer and batch, and names
// its layers with RECORD_USER_SCOPE.
#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <torch/library.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <iostream>
#include <random>
#include <string>

#include "repro/session.h"

namespace {

at::Tensor jitter(const at::Tensor& x) {
  static std::random_device unseeded;
  return x + static_cast<double>(unseeded() % 1000 + 1) * 1e-7;
}

// Cannot be 'repro::': that namespace is the harness's.
TORCH_LIBRARY(reprotest, m) { m.def("jitter(Tensor x) -> Tensor"); }
// Composite: autograd differentiates through the ops the kernel calls.
TORCH_LIBRARY_IMPL(reprotest, CompositeImplicitAutograd, m) { m.impl("jitter", jitter); }

at::Tensor call_jitter(const at::Tensor& x) {
  static const auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("reprotest::jitter", "").typed<at::Tensor(const at::Tensor&)>();
  return op.call(x);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: trace_trainer RUNS_DIR plain|jitter|reduce [INTRA_OP_THREADS] [SEED]\n";
    return 2;
  }
  const std::string mode = argv[2];
  const std::string threads = argc > 3 ? argv[3] : "1";
  const std::string seed = argc > 4 ? argv[4] : "7";
  if (mode != "plain" && mode != "jitter" && mode != "reduce") {
    std::cerr << "trace_trainer: unknown mode '" << mode << "'\n";
    return 2;
  }
  repro::SessionOptions options;
  options.runs_dir = argv[1];
  repro::Session session(repro::parse_config("name: \"trace-" + mode + "\" seed: " + seed +
                                                 "\ndeterminism { intra_op_threads: " + threads +
                                                 " }\nrecord { flush_every: 1 param_digest_every: 1 }\n"
                                                 "data { source: \"synthetic\" }\n",
                                             "trace_trainer"),
                         options);
  const bool wide = mode == "reduce";
  const int64_t in = wide ? 64 : 8, hidden = wide ? 1024 : 16, batch = wide ? 64 : 16;
  torch::nn::Linear first(in, hidden), second(hidden, 1);
  torch::nn::Sequential holder;
  holder->push_back("first", first);
  holder->push_back("second", second);
  session.watch(*holder, "trace-" + mode);
  torch::optim::SGD optimizer(holder->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  auto gen = session.rng("inputs");
  std::normal_distribution<float> normal;
  for (int64_t step = 0; step < 6; ++step) {
    std::vector<float> values(batch * in);
    for (auto& v : values) v = normal(gen);
    const at::Tensor x = at::from_blob(values.data(), {batch, in}).clone();
    session.begin_step(step, &optimizer, &x);
    optimizer.zero_grad();
    at::Tensor h;
    {
      RECORD_USER_SCOPE("first");
      h = first->forward(x);
    }
    if (mode == "jitter") {
      RECORD_USER_SCOPE("jitter");
      h = call_jitter(h);
    }
    at::Tensor loss;
    if (wide) {
      loss = (h - h.mean()).pow(2).mean();
    } else {
      RECORD_USER_SCOPE("second");
      loss = (second->forward(at::relu(h)) - x.sum(1, true)).pow(2).mean();
    }
    loss.backward();
    optimizer.step();
    session.record_step(step, loss);
  }
  session.finish();
  std::cout << session.run_dir() << "\n";
  return 0;
}
