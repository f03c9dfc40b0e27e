// Test fixture: a TorchScript model made in C++ (no Python), as torch.jit.save would write it.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <string>

namespace repro::testing {

// Linear(features, hidden) -> BatchNorm1d (running stats and num_batches_tracked as buffers)
// -> ReLU -> Dropout(0.25) -> Linear(hidden, classes); weights drawn from a generator seeded
// with `seed`. train/eval switch BatchNorm and dropout through `self.training`.
inline void write_torchscript_fixture(const std::string& path, int64_t features, int64_t classes, int64_t hidden = 16,
                                      std::uint64_t seed = 7) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto param = [&](at::IntArrayRef shape, double scale) {
    return (at::randn(shape, gen) * scale).requires_grad_(true);
  };
  torch::jit::Module m("FixtureNet");
  m.register_attribute("training", c10::BoolType::get(), true);
  m.register_parameter("fc1_weight", param({hidden, features}, 0.3), false);
  m.register_parameter("fc1_bias", param({hidden}, 0.1), false);
  m.register_parameter("bn_weight", torch::ones({hidden}).requires_grad_(true), false);
  m.register_parameter("bn_bias", torch::zeros({hidden}).requires_grad_(true), false);
  m.register_buffer("bn_running_mean", torch::zeros({hidden}));
  m.register_buffer("bn_running_var", torch::ones({hidden}));
  m.register_buffer("bn_num_batches_tracked", torch::zeros({}, torch::kLong));
  m.register_parameter("fc2_weight", param({classes, hidden}, 0.3), false);
  m.register_parameter("fc2_bias", param({classes}, 0.1), false);
  m.define(R"(
    def forward(self, x):
        h = torch.linear(torch.flatten(x, 1), self.fc1_weight, self.fc1_bias)
        if self.training:
            self.bn_num_batches_tracked.add_(1)
        h = torch.batch_norm(h, self.bn_weight, self.bn_bias, self.bn_running_mean, self.bn_running_var,
                             self.training, 0.1, 1e-5, False)
        h = torch.dropout(torch.relu(h), 0.25, self.training)
        return torch.linear(h, self.fc2_weight, self.fc2_bias)
  )");
  m.save(path);
}

}  // namespace repro::testing
