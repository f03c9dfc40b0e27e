// A LibTorch training program written the usual way (after pytorch/examples cpp/mnist): a Net
// module, a DataLoader with a RandomSampler, its own loop; here over Fashion-MNIST.
// mnist_plain.cc is the program as people write it; mnist_repro.cc is the same program made
// reproducible and recorded with repro::Session (`diff mnist_plain.cc mnist_repro.cc`).
//
//   PROGRAM [DATA_DIR] [STEPS] [TRAIN_SAMPLES]
//   (defaults /usr/share/datasets/fashion-mnist, 2000 and 0 = all 60000)
#include <repro/session.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

#include "fashion_mnist.h"

struct NetImpl : torch::nn::Module {
  NetImpl()
      : conv1(torch::nn::Conv2dOptions(1, 10, /*kernel_size=*/5)),
        conv2(torch::nn::Conv2dOptions(10, 20, /*kernel_size=*/5)),
        fc1(320, 50),
        fc2(50, 10) {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("conv2_drop", conv2_drop);
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(torch::max_pool2d(conv1->forward(x), 2));
    x = torch::relu(torch::max_pool2d(conv2_drop->forward(conv2->forward(x)), 2));
    x = x.view({-1, 320});
    x = torch::relu(fc1->forward(x));
    x = torch::dropout(x, /*p=*/0.5, /*train=*/is_training());
    return torch::log_softmax(fc2->forward(x), /*dim=*/1);
  }

  torch::nn::Conv2d conv1, conv2;
  torch::nn::Dropout2d conv2_drop;
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Net);

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  const int64_t steps = argc > 2 ? std::atoll(argv[2]) : 2000;
  const int64_t samples = argc > 3 ? std::atoll(argv[3]) : 0;
  repro::Session session(repro::parse_config("seed: 1", "mnist_repro"));  // seeds, pins, records

  Net model;
  session.watch(*model, "mnist-net");
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.5));
  auto train_set = examples::FashionMnist(root, /*train=*/true, samples).map(torch::data::transforms::Stack<>());
  auto loader = torch::data::make_data_loader<torch::data::samplers::RandomSampler>(std::move(train_set), 64);

  int64_t step = 0;
  for (int64_t epoch = 0; step < steps; ++epoch) {
    model->train();
    for (auto& batch : *loader) {
      optimizer.zero_grad();
      auto loss = torch::nll_loss(model->forward(batch.data), batch.target);
      loss.backward();
      optimizer.step();
      session.record_step(step, loss);
      if (step % 100 == 0) std::printf("epoch %ld step %ld loss %.6f\n", epoch, step, loss.item<double>());
      if (++step == steps) break;
    }
  }

  torch::NoGradGuard no_grad;
  model->eval();
  auto test_set = examples::FashionMnist(root, /*train=*/false, samples).map(torch::data::transforms::Stack<>());
  const auto test_size = *test_set.size();
  auto test_loader = torch::data::make_data_loader(std::move(test_set), 1000);
  int64_t correct = 0;
  for (const auto& batch : *test_loader) {
    correct += model->forward(batch.data).argmax(1).eq(batch.target).sum().item<int64_t>();
  }
  std::printf("test accuracy %.4f\n", static_cast<double>(correct) / static_cast<double>(test_size));
  session.finish();
  return 0;
}
