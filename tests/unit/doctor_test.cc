// The doctor's checks through repro/testing.h: healthy models pass, deliberately broken ones fail
// the right check naming the right tensor or layer.
#include "repro/testing.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "repro/config.h"
#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

namespace nn = torch::nn;
using ::testing::HasSubstr;

// Gaussian clusters: 4 classes in 16 features, a task any small MLP learns in a few steps.
struct Data {
  at::Tensor x, y;
};
Data clusters(int64_t n = 512) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor centers = at::randn({4, 16}, gen) * 3;
  const at::Tensor y = at::randint(4, {n}, gen, at::kLong);
  return {centers.index_select(0, y) + at::randn({n, 16}, gen), y};
}

// fc1 → ReLU → fc2, and a side branch that is only used when `use_branch`.
struct NetImpl : nn::Module {
  explicit NetImpl(int64_t hidden = 32, bool use_branch = true)
      : fc1(register_module("fc1", nn::Linear(16, hidden))),
        fc2(register_module("fc2", nn::Linear(hidden, 4))),
        branch(register_module("branch", nn::Linear(16, 4))),
        use_branch_(use_branch) {}
  torch::Tensor forward(torch::Tensor x) {
    const torch::Tensor side = branch(x);  // computed either way
    const torch::Tensor out = fc2(torch::relu(fc1(x)));
    return use_branch_ ? out + side : out;
  }
  nn::Linear fc1, fc2, branch;
  bool use_branch_;
};
TORCH_MODULE(Net);

std::function<std::unique_ptr<torch::optim::Optimizer>()> sgd(Net net, double lr) {
  return [net, lr] {
    return std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(lr).momentum(0.9));
  };
}

std::function<std::unique_ptr<torch::optim::Optimizer>()> adam(Net net, double lr) {
  return [net, lr] { return std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(lr)); };
}

class DoctorTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(1); }
  Data data = clusters();
};

TEST_F(DoctorTest, HealthyNetPassesEveryCheckAndIsLeftAsFound) {
  Net net;
  const at::Tensor before = net->fc1->weight.clone();
  auto target = testing::target(net, data.x, data.y, sgd(net, 0.05));
  const proto::DoctorReport report = run_doctor(target);
  EXPECT_TRUE(testing::doctor_healthy(report));
  ASSERT_EQ(report.checks_size(), 6);
  const std::vector<std::string> names = {"smoke",   "params_updated", "loss_decreases",
                                          "can_fit", "finite",         "dead_units"};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(report.checks(i).name(), names[i]);
  EXPECT_TRUE(net->fc1->weight.equal(before)) << "the checks restore the parameters";
  EXPECT_FALSE(net->fc1->weight.grad().defined()) << "and clear the gradients";
}

TEST_F(DoctorTest, FrozenLayerStillInTheOptimizerIsNamed) {
  Net net;
  net->fc1->weight.set_requires_grad(false);
  auto target = testing::target(net, data.x, data.y, sgd(net, 0.05));
  const proto::DoctorCheck check = check_params_updated(target);
  EXPECT_TRUE(testing::doctor_fails(check, "fc1.weight"));
  EXPECT_EQ(check.subject(), "fc1.weight");
  EXPECT_THAT(check.detail(), HasSubstr("fc1.weight was not updated at step 0: requires_grad is false"));
  EXPECT_EQ(check.offenders_size(), 1) << check.detail();
  EXPECT_DOCTOR_PASS(smoke, target);  // other tensors still change
}

TEST_F(DoctorTest, DisconnectedBranchIsNamed) {
  Net net(32, /*use_branch=*/false);
  auto target = testing::target(net, data.x, data.y, sgd(net, 0.05));
  const proto::DoctorCheck check = check_params_updated(target);
  EXPECT_DOCTOR_FAIL(params_updated, "branch.bias", target);
  EXPECT_EQ(check.subject(), "branch.weight");
  EXPECT_THAT(check.detail(), HasSubstr("no gradient reached it"));
  EXPECT_THAT(check.detail(), HasSubstr("2 tensors not updated: branch.weight, branch.bias"));
}

TEST_F(DoctorTest, ReluKilledByANegativeBiasIsADeadLayer) {
  Net net;
  {
    torch::NoGradGuard no_grad;
    net->fc1->bias.fill_(-100);
  }
  auto target = testing::target(net, data.x, data.y, sgd(net, 0.05));
  const proto::DoctorCheck check = check_dead_units(target);
  EXPECT_TRUE(testing::doctor_fails(check, "aten::relu after fc1"));
  EXPECT_EQ(check.subject(), "aten::relu after fc1");
  EXPECT_THAT(check.detail(), HasSubstr("100% of its 32 units are zero for all 32 samples of a batch (limit 50%)"));
  EXPECT_DOCTOR_FAIL(params_updated, "fc1.weight", target);  // and no gradient flows through it
}

TEST_F(DoctorTest, HealthyReluLayerIsTracedByName) {
  Net net;
  auto target = testing::target(net, data.x, data.y, sgd(net, 0.05));
  const proto::DoctorCheck check = check_dead_units(target);
  EXPECT_TRUE(testing::doctor_passes(check));
  std::vector<std::string> layers;
  for (const auto& f : check.figures()) {
    if (f.name().rfind("dead_fraction: ", 0) == 0) layers.push_back(f.name().substr(15));
  }
  // Linear runs as aten::addmm or aten::linear depending on the LibTorch version.
  using ::testing::StartsWith;
  EXPECT_THAT(layers, ::testing::ElementsAre(StartsWith("branch (aten::"), StartsWith("fc1 (aten::"),
                                             "aten::relu after fc1", StartsWith("fc2 (aten::"), "aten::add after fc2"));
}

TEST_F(DoctorTest, ExplodingLearningRateFailsFiniteNamingTheFirstOffender) {
  Net net;
  auto target = testing::target(net, data.x, data.y, sgd(net, 1e6));
  const proto::DoctorCheck check = check_finite(target);
  EXPECT_TRUE(testing::doctor_fails(check, ""));
  EXPECT_FALSE(check.subject().empty());
  EXPECT_THAT(check.detail(), ::testing::StartsWith("step "));
  EXPECT_THAT(check.detail(), ::testing::AnyOf(HasSubstr(" NaN and "), HasSubstr(" Inf of ")));
  EXPECT_DOCTOR_FAIL(loss_decreases, "", target);
  EXPECT_DOCTOR_PASS(smoke, target) << "the first step is still finite";
}

TEST_F(DoctorTest, ModelTooSmallToFitFailsCanFitWhereAWiderOnePasses) {
  // 16 points in a plane (zero-padded to 16 features) with arbitrary labels: through a
  // bottleneck of one unit each class would need its own interval along one direction.
  const at::Tensor x = at::cat({at::randn({16, 2}), at::zeros({16, 14})}, 1), y = at::randint(4, {16}, at::kLong);
  Net tiny(1, /*use_branch=*/false);
  auto small = testing::target(tiny, x, y, adam(tiny, 0.01));
  const proto::DoctorCheck check = check_can_fit(small);
  EXPECT_TRUE(testing::doctor_fails(check, ""));
  EXPECT_THAT(check.detail(), HasSubstr("the model cannot fit the batch"));
  Net wide(64, /*use_branch=*/false);
  auto big = testing::target(wide, x, y, adam(wide, 0.01));
  EXPECT_DOCTOR_PASS(can_fit, big);
}

TEST_F(DoctorTest, CanFitSwitchesDropoutOffAndBackOn) {
  auto net = std::make_shared<nn::SequentialImpl>(nn::Linear(16, 64), nn::ReLU(), nn::Dropout(0.5), nn::Linear(64, 4));
  auto target = testing::target(net, data.x, data.y, [net] {
    return std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(0.01).weight_decay(0.1));
  });
  ASSERT_TRUE(target.set_dropout);
  EXPECT_DOCTOR_PASS(can_fit, target);
  EXPECT_TRUE(net->ptr(2)->is_training()) << "dropout is back on";
}

TEST_F(DoctorTest, ExceptionInForwardIsAFailedSmokeCheck) {
  Net net;
  auto target = testing::target(net, at::randn({8, 5}), at::randint(4, {8}, at::kLong), sgd(net, 0.1));
  const proto::DoctorCheck check = check_smoke(target);
  EXPECT_TRUE(testing::doctor_fails(check, "exception"));
  EXPECT_THAT(check.detail(), HasSubstr("mat1 and mat2 shapes cannot be multiplied"));
}

TEST_F(DoctorTest, BadArgumentsAreUsageErrors) {
  Net net;
  auto target = testing::target(net, data.x, data.y, sgd(net, 0.1));
  DoctorOptions options;
  options.trend_steps = 2;
  EXPECT_THROW(check_loss_decreases(target, options), Error);
  target.make_optimizer = nullptr;
  EXPECT_THROW(check_smoke(target), Error);
}

// The built-in models, built from their configs exactly as `repro run` builds them.
TEST(DoctorModelsTest, MlpOnSyntheticDataIsHealthy) {
  auto target = doctor_target(load_config(testing::config_path("mlp_synthetic.textproto")));
  EXPECT_MODEL_HEALTHY(target);
}

TEST(DoctorModelsTest, CnnOnFashionMnistIsHealthy) {
  auto target = doctor_target(load_config(testing::config_path("demo.textproto"),
                                          {"data.sample_limit=1000", "determinism.intra_op_threads=1"}));
  EXPECT_EQ(target.name, "cnn");
  EXPECT_MODEL_HEALTHY(target);
}

}  // namespace
}  // namespace repro
