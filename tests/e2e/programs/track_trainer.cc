// A user's program that names its data directory to the Session (track_data), so that a change
// in it refuses a rerun. Trains a linear classifier on the first 256 Fashion-MNIST samples of
// DATA_DIR for 5 steps.
//
//   track_trainer DATA_DIR RUNS_DIR ROLE
#include <torch/torch.h>

#include <iostream>

#include "repro/session.h"
// after the Session: zlib.h's macros would rename a field accessor of proto/environment.proto
#include "fashion_mnist.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: track_trainer DATA_DIR RUNS_DIR ROLE\n";
    return 2;
  }
  repro::SessionOptions options;
  options.runs_dir = argv[2];
  repro::Session session(repro::parse_config("seed: 4", "track_trainer"), options);
  session.track_data(argv[1], argv[3]);
  examples::FashionMnist data(argv[1], /*train=*/true, /*limit=*/256);
  torch::nn::Linear model(784, 10);
  session.watch(*model, "linear");
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05));
  for (int64_t step = 0; step < 5; ++step) {
    std::vector<torch::Tensor> images, labels;
    for (int64_t i = step * 48; i < step * 48 + 64; ++i) {
      auto example = data.get(static_cast<size_t>(i));
      images.push_back(example.data.view({-1}));
      labels.push_back(example.target);
    }
    optimizer.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(torch::stack(images)), torch::stack(labels));
    loss.backward();
    optimizer.step();
    session.record_step(step, loss);
  }
  session.finish();
  std::cout << session.run_dir() << "\n";
  return 0;
}
