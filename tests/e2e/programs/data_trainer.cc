// A user's program that trains on a CSV file named on its command line and records it with a
// Session. The file is named in the config's data section (source "csv"), so the Session
// digests it and a changed file is named by compare and check. It prints the launch variables
// it was started with (the tests read them back from the run's log).
//
//   data_trainer CSV [STEPS]     CSV: a header line "x,y,label", then one sample per line
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "models/models.h"
#include "repro/session.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: data_trainer CSV [STEPS]\n";
    return 2;
  }
  for (const char* name : {"REPRO_SEED", "REPRO_SET", "REPRO_LAUNCHER"}) {
    const char* value = std::getenv(name);
    std::cout << name << "=" << (value ? value : "(unset)") << "\n";
  }
  repro::models::register_builtins();  // the csv source: the data file is fingerprinted
  const std::string csv = argv[1];
  const int steps = argc > 2 ? std::stoi(argv[2]) : 20;
  repro::Session session(
      repro::parse_config("seed: 5\nname: \"data_trainer\"\n"
                          "record { flush_every: 5 param_digest_every: 5 }\n"
                          "data { source: \"csv\" path: \"" +
                              csv + "\" csv_features: \"x\" csv_features: \"y\" }\n",
                          "data_trainer"));
  std::ifstream in(csv);
  std::vector<float> features, targets;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string x, y, label;
    std::getline(fields, x, ',');
    std::getline(fields, y, ',');
    std::getline(fields, label, ',');
    features.push_back(std::stof(x));
    features.push_back(std::stof(y));
    targets.push_back(std::stof(label));
  }
  const auto n = static_cast<int64_t>(targets.size());
  const at::Tensor inputs = at::from_blob(features.data(), {n, 2}).clone();
  const at::Tensor labels = at::from_blob(targets.data(), {n, 1}).clone();
  torch::nn::Linear model(2, 1);
  session.watch(*model, "data-linear");
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1));
  for (int64_t step = 0; step < steps; ++step) {
    at::Tensor loss = (model->forward(inputs) - labels).pow(2).mean();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    session.record_step(step, loss);
  }
  session.finish();
  return 0;
}
