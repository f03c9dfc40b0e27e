// A user's program with a setting on its command line and a hyperparameter in its code:
//
//   param_trainer RUNS_DIR BATCH [SEED [EXIT]]
//
// BATCH is the batch size (a command-line setting), SEED the config's master seed (default 11;
// 0 draws one), EXIT the exit status after the run finished (default 0). The learning rate is
// session.param("lr", PARAM_TRAINER_LR): built with another -DPARAM_TRAINER_LR it is the same
// program with another default in its code. Arguments after EXIT are ignored.
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include "repro/session.h"

#ifndef PARAM_TRAINER_LR
#define PARAM_TRAINER_LR 0.05
#endif

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: param_trainer RUNS_DIR BATCH [SEED [EXIT]]\n";
    return 2;
  }
  const int batch = std::atoi(argv[2]);
  const std::string seed = argc > 3 ? argv[3] : "11";
  const int exit_status = argc > 4 ? std::atoi(argv[4]) : 0;
  repro::SessionOptions options;
  options.runs_dir = argv[1];
  repro::Session session(repro::parse_config("seed: " + seed +
                                                 "\nrecord { flush_every: 5 param_digest_every: 5 }\n"
                                                 "data { source: \"synthetic\" }\n",
                                             "param_trainer"),
                         options);
  const double lr = session.param("lr", PARAM_TRAINER_LR);
  const int steps = session.param("steps", 20);
  const bool bias = session.param("bias", true);
  torch::nn::Linear model(torch::nn::LinearOptions(8, 1).bias(bias));
  session.watch(*model, "linear");
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(lr));
  auto gen = session.rng("inputs");
  std::normal_distribution<float> normal;
  for (int64_t step = 0; step < steps; ++step) {
    std::vector<float> values(static_cast<std::size_t>(batch) * 8);
    for (auto& v : values) v = normal(gen);
    const at::Tensor x = at::from_blob(values.data(), {batch, 8}).clone();
    at::Tensor loss = (model->forward(x) - x.sum(1, true)).pow(2).mean();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    session.record_step(step, loss);
  }
  session.finish();
  std::cout << "param_trainer: lr " << lr << "\n";
  return exit_status;
}
