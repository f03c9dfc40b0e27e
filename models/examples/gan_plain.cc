// A small GAN written the usual way (after pytorch/examples cpp/dcgan): a generator and a
// discriminator module, two Adam optimizers, a DataLoader with a RandomSampler over
// Fashion-MNIST, and a hand-written loop with a generator and a discriminator loss per step.
// gan_plain.cc is the program as people write it; gan_repro.cc is the same program made
// reproducible and recorded with repro::Session (`diff gan_plain.cc gan_repro.cc`).
//
//   PROGRAM [DATA_DIR] [STEPS] [D_LR]     (defaults /usr/share/datasets/fashion-mnist, 300, 2e-4)
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fashion_mnist.h"

constexpr int64_t kNoiseSize = 16;
constexpr int64_t kImageSize = 28 * 28;
constexpr int64_t kBatchSize = 32;
constexpr int64_t kTrainSamples = 4096;

struct GeneratorImpl : torch::nn::Module {
  GeneratorImpl() : fc1(kNoiseSize, 64), fc2(64, kImageSize) {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  torch::Tensor forward(torch::Tensor z) { return torch::tanh(fc2->forward(torch::relu(fc1->forward(z)))); }
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Generator);

struct DiscriminatorImpl : torch::nn::Module {
  DiscriminatorImpl() : fc1(kImageSize, 64), fc2(64, 1) {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  torch::Tensor forward(torch::Tensor x) {
    return fc2->forward(torch::leaky_relu(fc1->forward(x), /*negative_slope=*/0.2)).view(-1);
  }
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Discriminator);

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  const int64_t steps = argc > 2 ? std::atoll(argv[2]) : 300;
  const double d_lr = argc > 3 ? std::atof(argv[3]) : 2e-4;
  torch::manual_seed(1);

  Generator generator;
  Discriminator discriminator;
  torch::optim::Adam g_optimizer(generator->parameters(), torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));
  torch::optim::Adam d_optimizer(discriminator->parameters(), torch::optim::AdamOptions(d_lr).betas({0.5, 0.999}));
  auto train_set = examples::FashionMnist(root, /*train=*/true, kTrainSamples).map(torch::data::transforms::Stack<>());
  auto loader = torch::data::make_data_loader<torch::data::samplers::RandomSampler>(
      std::move(train_set), torch::data::DataLoaderOptions(kBatchSize).drop_last(true));

  int64_t step = 0;
  for (int64_t epoch = 0; step < steps; ++epoch) {
    for (auto& batch : *loader) {
      // Back from the MNIST normalisation to [-1, 1], the generator's range.
      const auto real = batch.data.view({-1, kImageSize}).mul(0.3081).add(0.1307).mul(2).sub(1);
      const auto ones = torch::ones({kBatchSize}), zeros = torch::zeros({kBatchSize});

      // The generator: make the discriminator call its fakes real.
      g_optimizer.zero_grad();
      const auto fake = generator->forward(torch::randn({kBatchSize, kNoiseSize}));
      auto g_loss = torch::binary_cross_entropy_with_logits(discriminator->forward(fake), ones);
      g_loss.backward();
      g_optimizer.step();

      // The discriminator: real images against the generator's fakes.
      d_optimizer.zero_grad();
      auto d_loss = torch::binary_cross_entropy_with_logits(discriminator->forward(real), ones) +
                    torch::binary_cross_entropy_with_logits(discriminator->forward(fake.detach()), zeros);
      d_loss.backward();
      d_optimizer.step();

      if (step % 50 == 0) {
        std::printf("epoch %ld step %ld d_loss %.6f g_loss %.6f\n", epoch, step, d_loss.item<double>(),
                    g_loss.item<double>());
      }
      if (++step == steps) break;
    }
  }
  std::printf("done after %ld steps\n", step);
  return 0;
}
