// A user's own training program, made reproducible with a Session in a few lines. With
// --unseeded-noise its loss draws from std::random_device, which no seed controls: the
// rerun scenarios use it to show what an unseeded source looks like in a report.
//
//   user_trainer RUNS_DIR [--unseeded-noise]
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <cstring>
#include <iostream>
#include <random>

#include "repro/session.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: user_trainer RUNS_DIR [--unseeded-noise]\n";
    return 2;
  }
  const bool noisy = argc > 2 && std::strcmp(argv[2], "--unseeded-noise") == 0;
  repro::SessionOptions options;
  options.runs_dir = argv[1];
  repro::Session session(repro::parse_config("seed: 11\nrecord { flush_every: 5 param_digest_every: 5 }\n"
                                             "data { source: \"synthetic\" }\n",
                                             "user_trainer"),
                         options);
  torch::nn::Linear model(8, 1);
  session.watch(*model, "user-linear");
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05));
  auto gen = session.rng("inputs");
  std::normal_distribution<float> normal;
  std::random_device unseeded;
  for (int64_t step = 0; step < 30; ++step) {
    std::vector<float> values(16 * 8);
    for (auto& v : values) v = normal(gen);
    const at::Tensor x = at::from_blob(values.data(), {16, 8}).clone();
    at::Tensor loss = (model->forward(x) - x.sum(1, true)).pow(2).mean();
    if (noisy) loss = loss + static_cast<float>(unseeded() % 1000) * 1e-6f;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    session.record_step(step, loss);
  }
  session.finish();
  std::cout << session.run_dir() << "\n";
  return 0;
}
