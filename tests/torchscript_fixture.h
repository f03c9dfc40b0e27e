// Test fixture: a TorchScript model made in C++ (no Python), as torch.jit.save would write it.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <memory>
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

// What write_torchscript_net's module does wrong, if anything.
enum class ScriptNetFault {
  kNone,
  kDeadRelu,  // fc1's bias is -100: its ReLU is zero for every input, a dead layer
  kNanLayer,  // fc1's output goes through torch.log: NaN for its negative elements
};

// A TorchScript module with submodules, as torch.jit.script would save
//   class Net(nn.Module):  # fc1 = Linear(features, hidden), fc2 = Linear(hidden, classes)
//       def forward(self, x): return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))
// (as its saved code spells it: self.fc2.forward(...), which is what a C++ define needs)
// (torch.log around self.fc1(...) for kNanLayer); parameters fc1.weight, fc1.bias, fc2.weight,
// fc2.bias drawn from a generator seeded with `seed`.
inline void write_torchscript_net(const std::string& path, int64_t features, int64_t classes, ScriptNetFault fault,
                                  int64_t hidden = 32, std::uint64_t seed = 7) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  auto linear = [&](int64_t in, int64_t out, double bias) {
    torch::jit::Module m("__torch__.fixture.Linear", cu, /*shouldMangle=*/true);
    m.register_attribute("training", c10::BoolType::get(), true);
    m.register_parameter("weight", (at::randn({out, in}, gen) * (1.0 / std::sqrt(in))).requires_grad_(true), false);
    const at::Tensor b = bias != 0 ? at::full({out}, bias) : at::randn({out}, gen) * 0.1;
    m.register_parameter("bias", b.requires_grad_(true), false);
    m.define("def forward(self, x):\n    return torch.linear(x, self.weight, self.bias)\n");
    return m;
  };
  torch::jit::Module net("__torch__.fixture.Net", cu, /*shouldMangle=*/true);
  net.register_attribute("training", c10::BoolType::get(), true);
  net.register_module("fc1", linear(features, hidden, fault == ScriptNetFault::kDeadRelu ? -100.0 : 0.0));
  net.register_module("fc2", linear(hidden, classes, 0.0));
  const std::string h = fault == ScriptNetFault::kNanLayer ? "torch.log(self.fc1.forward(torch.flatten(x, 1)))"
                                                           : "self.fc1.forward(torch.flatten(x, 1))";
  net.define("def forward(self, x):\n    return self.fc2.forward(torch.relu(" + h + "))\n");
  net.save(path);
}

// Writes a write_torchscript_net model (16 features, 4 classes, `fault`) into `dir` and the
// config that trains it as the doctor tests do: synthetic clusters, SGD, 40 steps of batch 32.
// Returns the config's path.
inline std::string write_torchscript_net_config(const std::string& dir, ScriptNetFault fault) {
  const std::string model = dir + "/net.pt", config = dir + "/net.textproto";
  write_torchscript_net(model, 16, 4, fault);
  std::ofstream(config) << "seed: 11\nmodel { torchscript { path: \"" << model
                        << "\" } }\n"
                           "data { source: \"synthetic\" synthetic_samples: 512 }\n"
                           "optimizer { name: \"sgd\" lr: 0.05 momentum: 0.9 }\n"
                           "train { steps: 40 batch_size: 32 }\n";
  return config;
}

}  // namespace repro::testing
