// The example of repro/testing.h, verbatim: it must compile and pass.
#include <gtest/gtest.h>
#include <repro/testing.h>
#include <torch/torch.h>

struct NetImpl : torch::nn::Module {
  NetImpl()
      : fc1(register_module("fc1", torch::nn::Linear(16, 64))), fc2(register_module("fc2", torch::nn::Linear(64, 4))) {}
  torch::Tensor forward(torch::Tensor x) { return fc2(torch::relu(fc1(x))); }
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Net);

// Four Gaussian clusters in 16 features: a task a healthy Net learns in a few steps.
repro::DoctorTarget clusters_target(Net net) {
  const auto y = torch::randint(4, {512});
  const auto x = torch::randn({4, 16}).mul(3).index_select(0, y) + torch::randn({512, 16});
  return repro::testing::target(net, x, y, [net] {
    return std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  });
}

TEST(NetTest, TrainsForTheRightReasons) {
  torch::manual_seed(1);
  auto target = clusters_target(Net());
  EXPECT_MODEL_HEALTHY(target);         // all six checks
  EXPECT_DOCTOR_PASS(can_fit, target);  // one check, by its name in repro/doctor.h
  repro::DoctorOptions quick;
  quick.trend_steps = 10;
  EXPECT_DOCTOR_PASS(loss_decreases, target, quick);  // with options
}

TEST(NetTest, FrozenLayerIsNamed) {
  torch::manual_seed(1);
  Net net;
  net->fc1->weight.set_requires_grad(false);  // frozen, yet the optimizer holds it
  auto target = clusters_target(net);
  EXPECT_DOCTOR_FAIL(params_updated, "fc1.weight", target);  // fails, naming that tensor
}
