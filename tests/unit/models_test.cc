// Tests for models/: make_model, the mlp and cnn modules and the TrainableModel adapter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/data/dataset.h"
#include "models/model.h"
#include "repro/error.h"
#include "testutil.h"
#include "torchscript_fixture.h"

namespace repro::models {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const DataShape kImage{{1, 28, 28}, 10};

proto::ModelConfig mlp_config() {
  proto::ModelConfig config;
  config.mutable_mlp();
  return config;
}

proto::ModelConfig cnn_config() {
  proto::ModelConfig config;
  config.mutable_cnn();
  return config;
}

std::vector<std::string> names(const NamedTensors& tensors) {
  std::vector<std::string> out;
  for (const auto& [name, tensor] : tensors) out.push_back(name);
  return out;
}

int64_t count(const NamedTensors& tensors) {
  int64_t n = 0;
  for (const auto& [name, tensor] : tensors) n += tensor.numel();
  return n;
}

// Expects make_model to throw a repro::Error of `kind` whose message contains `text`.
void expect_error(const proto::ModelConfig& config, const DataShape& shape, ErrorKind kind, const std::string& text) {
  try {
    make_model(config, shape);
    FAIL() << "expected an Error containing: " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind);
    EXPECT_THAT(e.what(), HasSubstr(text));
  }
}

TEST(ModelsTest, MlpDefaultShapesNamesAndCount) {
  torch::manual_seed(1);
  auto model = make_model(mlp_config(), kImage);
  EXPECT_EQ(model->name(), "mlp");
  const auto logits = model->forward(torch::rand({5, 1, 28, 28}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{5, 10}));
  const auto params = model->named_parameters();
  EXPECT_THAT(names(params), ElementsAre("hidden.0.weight", "hidden.0.bias", "hidden.1.weight", "hidden.1.bias",
                                         "output.weight", "output.bias"));
  EXPECT_EQ(params[0].second.sizes(), (std::vector<int64_t>{256, 784}));
  EXPECT_EQ(count(params), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  EXPECT_TRUE(model->named_buffers().empty());
  EXPECT_THAT(model->summary(), HasSubstr("Mlp"));
  EXPECT_THAT(model->summary(), HasSubstr("in_features=784, out_features=256"));
  EXPECT_THAT(model->summary(), HasSubstr("torch::nn::ReLU"));
}

TEST(ModelsTest, MlpCustomHiddenAndActivation) {
  auto config = mlp_config();
  config.mutable_mlp()->add_hidden(7);
  config.mutable_mlp()->set_activation("gelu");
  auto model = make_model(config, DataShape{{3}, 2});
  EXPECT_EQ(model->forward(torch::zeros({4, 3})).sizes(), (std::vector<int64_t>{4, 2}));
  EXPECT_THAT(names(model->named_parameters()),
              ElementsAre("hidden.0.weight", "hidden.0.bias", "output.weight", "output.bias"));
  EXPECT_EQ(count(model->named_parameters()), 3 * 7 + 7 + 7 * 2 + 2);
  EXPECT_THAT(model->summary(), HasSubstr("GELU"));
}

TEST(ModelsTest, CnnShapesNamesAndBuffers) {
  auto config = cnn_config();
  config.mutable_cnn()->set_channels1(4);
  config.mutable_cnn()->set_channels2(8);
  config.mutable_cnn()->set_hidden(16);
  auto model = make_model(config, kImage);
  EXPECT_EQ(model->name(), "cnn");
  EXPECT_EQ(model->forward(torch::rand({3, 1, 28, 28})).sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_THAT(names(model->named_parameters()),
              ElementsAre("features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                          "features.4.weight", "features.4.bias", "features.5.weight", "features.5.bias",
                          "classifier.2.weight", "classifier.2.bias", "classifier.5.weight", "classifier.5.bias"));
  // conv1 + bn1 + conv2 + bn2 + fc (8 channels of 7x7 after two pools) + output.
  EXPECT_EQ(count(model->named_parameters()),
            (4 * 9 + 4) + 2 * 4 + (8 * 4 * 9 + 8) + 2 * 8 + (8 * 7 * 7 * 16 + 16) + (16 * 10 + 10));
  EXPECT_THAT(names(model->named_buffers()),
              ElementsAre("features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
                          "features.5.running_mean", "features.5.running_var", "features.5.num_batches_tracked"));
  EXPECT_THAT(model->summary(), HasSubstr("BatchNorm2d"));
}

TEST(ModelsTest, CnnDefaultsOnOddImageSize) {
  // 3x10x9 images: pools floor to 5x4, then 2x2.
  auto model = make_model(cnn_config(), DataShape{{3, 10, 9}, 4});
  EXPECT_EQ(model->forward(torch::rand({2, 3, 10, 9})).sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(model->named_parameters()[8].second.sizes(), (std::vector<int64_t>{128, 64 * 2 * 2}));
}

TEST(ModelsTest, SameSeedSameParametersOtherSeedOther) {
  for (const auto& config : {mlp_config(), cnn_config()}) {
    torch::manual_seed(42);
    const auto a = make_model(config, kImage)->named_parameters();
    torch::manual_seed(42);
    const auto b = make_model(config, kImage)->named_parameters();
    torch::manual_seed(43);
    const auto c = make_model(config, kImage)->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    bool any_differs = false;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
      any_differs = any_differs || !torch::equal(a[i].second, c[i].second);
    }
    EXPECT_TRUE(any_differs);
    EXPECT_FALSE(torch::equal(a[0].second, c[0].second));
  }
}

TEST(ModelsTest, ParametersAreTheModulesOwn) {
  auto model = make_model(mlp_config(), DataShape{{2}, 2});
  const auto before = model->forward(torch::ones({1, 2}));
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, p] : model->named_parameters()) p.zero_();
  }
  EXPECT_TRUE(torch::equal(model->forward(torch::ones({1, 2})), torch::zeros({1, 2})));
  EXPECT_FALSE(torch::equal(before, torch::zeros({1, 2})));
  EXPECT_TRUE(model->named_parameters()[0].second.requires_grad());
}

TEST(ModelsTest, DropoutOnlyInTraining) {
  auto config = mlp_config();
  config.mutable_mlp()->set_dropout(0.5);
  torch::manual_seed(7);
  auto model = make_model(config, kImage);
  const auto x = torch::rand({8, 1, 28, 28});
  model->train(false);
  EXPECT_TRUE(torch::equal(model->forward(x), model->forward(x)));
  model->train(true);
  EXPECT_FALSE(torch::equal(model->forward(x), model->forward(x)));
  EXPECT_THAT(model->summary(), HasSubstr("Dropout(p=0.5"));

  // Without dropout, training mode is deterministic too.
  auto plain = make_model(mlp_config(), kImage);
  plain->train(true);
  EXPECT_TRUE(torch::equal(plain->forward(x), plain->forward(x)));
}

TEST(ModelsTest, CnnEvalUsesRunningStatistics) {
  auto model = make_model(cnn_config(), kImage);
  const auto x = torch::rand({4, 1, 28, 28});
  model->train(true);
  model->forward(x);
  const auto buffers = model->named_buffers();
  EXPECT_EQ(buffers[2].second.item<int64_t>(), 1);  // features.1.num_batches_tracked
  model->train(false);
  EXPECT_TRUE(torch::equal(model->forward(x), model->forward(x)));
  EXPECT_EQ(model->named_buffers()[2].second.item<int64_t>(), 1);
}

TEST(ModelsTest, BadConfigsNameTheField) {
  auto bad_activation = mlp_config();
  bad_activation.mutable_mlp()->set_activation("swish");
  expect_error(bad_activation, kImage, ErrorKind::kUsage,
               "model.mlp.activation: unknown activation 'swish' (expected relu, tanh or gelu)");
  expect_error(cnn_config(), DataShape{{784}, 10}, ErrorKind::kUsage,
               "model.cnn: needs image input [C,H,W], data has [784]");
  expect_error(cnn_config(), DataShape{{1, 3, 28}, 10}, ErrorKind::kUsage, "model.cnn: needs images of at least 4x4");
  auto zero_width = mlp_config();
  zero_width.mutable_mlp()->add_hidden(0);
  expect_error(zero_width, kImage, ErrorKind::kUsage, "model.mlp.hidden: must be positive, got 0");
  auto bad_dropout = cnn_config();
  bad_dropout.mutable_cnn()->set_dropout(1.0);
  expect_error(bad_dropout, kImage, ErrorKind::kUsage, "model.cnn.dropout: must be in [0, 1)");
  expect_error(mlp_config(), DataShape{{1, 28, 28}, 0}, ErrorKind::kUsage, "model.mlp: cannot build");
  expect_error(proto::ModelConfig(), kImage, ErrorKind::kUsage,
               "model: no model chosen (expected one of mlp, cnn, torchscript)");
  proto::ModelConfig script;
  script.mutable_torchscript();
  expect_error(script, kImage, ErrorKind::kUsage, "model.torchscript.path: empty");
  script.mutable_torchscript()->set_path("/nonexistent/model.pt");
  expect_error(script, kImage, ErrorKind::kInput, "/nonexistent/model.pt: model.torchscript.path: no such file");
  EXPECT_EQ(model_names(), (std::vector<std::string>{"mlp", "cnn", "torchscript"}));
}

TEST(ModelsTest, MlpLearnsSyntheticClusters) {
  proto::DataConfig data_config;
  data_config.set_source("synthetic");
  const LoadedData data = load_data(data_config, /*seed=*/5);
  torch::manual_seed(5);
  auto config = mlp_config();
  config.mutable_mlp()->add_hidden(32);
  auto model = make_model(config, DataShape{data.input_shape, data.num_classes});
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : model->named_parameters()) params.push_back(p);
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.05));
  model->train(true);
  for (int64_t step = 0; step < 200; ++step) {
    const int64_t start = (step * 64) % (data.train.size() - 64);
    const auto x = data.train.features.slice(0, start, start + 64);
    const auto y = data.train.labels.slice(0, start, start + 64);
    sgd.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    sgd.step();
  }
  model->train(false);
  torch::NoGradGuard no_grad;
  const auto predicted = model->forward(data.test.features).argmax(1);
  const double accuracy = predicted.eq(data.test.labels).to(torch::kDouble).mean().item<double>();
  EXPECT_GT(accuracy, 0.9);
}

}  // namespace
}  // namespace repro::models

namespace repro::models {
namespace {

// The TorchScript adapter: parameters and buffers of the loaded module, in registration order
// and shared with it; train(true) updates the BatchNorm statistics and draws dropout masks,
// train(false) uses the running statistics and is a pure function of the input.
TEST(ModelsTest, TorchScriptModelExposesBuffersAndSwitchesMode) {
  repro::testing::TempDir dir;
  const std::string path = dir / "net.pt";
  repro::testing::write_torchscript_fixture(path, 6, 3, /*hidden=*/8);
  proto::ModelConfig config;
  config.mutable_torchscript()->set_path(path);
  auto model = make_model(config, DataShape{{6}, 3});
  EXPECT_EQ(model->name(), "torchscript");
  EXPECT_THAT(names(model->named_parameters()),
              ElementsAre("fc1_weight", "fc1_bias", "bn_weight", "bn_bias", "fc2_weight", "fc2_bias"));
  EXPECT_THAT(names(model->named_buffers()),
              ElementsAre("bn_running_mean", "bn_running_var", "bn_num_batches_tracked"));
  EXPECT_EQ(count(model->named_parameters()), 6 * 8 + 8 + 8 + 8 + 3 * 8 + 3);
  EXPECT_THAT(model->summary(), HasSubstr("aten::batch_norm"));

  const at::Tensor x = at::arange(24, at::kFloat).view({4, 6}) / 10;
  const at::Tensor running_mean = model->named_buffers()[0].second;
  const at::Tensor tracked = model->named_buffers()[2].second;
  model->train(false);
  const at::Tensor eval1 = model->forward(x);
  EXPECT_TRUE(at::equal(eval1, model->forward(x))) << "eval: no dropout, running statistics";
  EXPECT_EQ(tracked.item<int64_t>(), 0);
  EXPECT_TRUE(at::equal(running_mean, at::zeros({8})));
  model->train(true);
  torch::manual_seed(1);
  const at::Tensor train1 = model->forward(x);
  EXPECT_EQ(tracked.item<int64_t>(), 1);
  EXPECT_FALSE(at::equal(running_mean, at::zeros({8}))) << "the buffer the model updates is the one watched";
  EXPECT_FALSE(at::equal(train1, model->forward(x))) << "another dropout mask";
  EXPECT_EQ(train1.sizes(), (std::vector<int64_t>{4, 3}));
}

TEST(ModelsTest, TorchScriptFilesThatAreNotModelsAreInputErrors) {
  repro::testing::TempDir dir;
  const std::string path = dir / "notes.pt";
  repro::testing::write_file(path, "not a zip archive");
  proto::ModelConfig config;
  config.mutable_torchscript()->set_path(path);
  expect_error(config, DataShape{{6}, 3}, ErrorKind::kInput, path + ": not a TorchScript file");
  const std::string wrong = dir / "wrong.pt";
  repro::testing::write_torchscript_fixture(wrong, 6, 2);
  config.mutable_torchscript()->set_path(wrong);
  auto model = make_model(config, DataShape{{6}, 3});
  try {
    model->forward(at::zeros({5, 6}));
    FAIL() << "expected an Error for logits of 2 classes";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_THAT(e.what(), HasSubstr(wrong + ": forward returned shape [5, 2] for a batch of 5, expected [5, 3]"));
  }
}

}  // namespace
}  // namespace repro::models
