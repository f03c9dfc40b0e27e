#include "session/train_setup.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim.h>

#include <cmath>

#include "repro/error.h"

namespace repro::internal {

at::Generator seeded_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

Splits split_and_normalize(const models::LoadedData& data, const proto::DataConfig& cfg, std::uint64_t split_seed) {
  const int64_t n = data.train.size();
  const at::Tensor perm = at::randperm(n, seeded_generator(split_seed), at::kLong);
  const int64_t n_train = std::llround(static_cast<double>(n) * cfg.split_fraction());
  if (n_train < 1 || n_train >= n) {
    throw Error::usage("data.split_fraction: " + std::to_string(cfg.split_fraction()) + " of " + std::to_string(n) +
                       " samples leaves an empty split");
  }
  const at::Tensor train_idx = perm.slice(0, 0, n_train), val_idx = perm.slice(0, n_train, n);
  // Each split is gathered in the source's dtype, then converted to float32 once (to() of a
  // float32 tensor is that tensor): one float copy per split (uint8 images take a quarter of the
  // memory until here), normalised in place.
  Splits s;
  s.train_idx = train_idx;
  s.val_idx = val_idx;
  s.train_x = data.train.features.index_select(0, train_idx).to(at::kFloat);
  s.train_y = data.train.labels.index_select(0, train_idx);
  s.val_x = data.train.features.index_select(0, val_idx).to(at::kFloat);
  s.val_y = data.train.labels.index_select(0, val_idx);
  if (data.test.features.defined()) {
    // A copy even when already float32: normalising in place must not change the caller's data.
    s.test_x = data.test.features.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true);
  }
  s.test_y = data.test.labels;
  if (cfg.normalize()) {
    const double mean = s.train_x.mean().item<double>();
    double stdev = s.train_x.std().item<double>();
    if (!(stdev > 0)) stdev = 1;
    // sub_ and div_ are the kernels of (x - mean) / stdev, without the two temporaries.
    for (at::Tensor* x : {&s.train_x, &s.val_x, &s.test_x}) {
      if (x->defined()) x->sub_(mean).div_(stdev);
    }
  }
  return s;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const proto::OptimizerConfig& o,
                                                        const std::vector<at::Tensor>& params) {
  if (o.name() == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        params,
        torch::optim::SGDOptions(o.lr()).momentum(o.momentum()).nesterov(o.nesterov()).weight_decay(o.weight_decay()));
  }
  auto betas = std::make_tuple(o.beta1(), o.beta2());
  if (o.name() == "adam") {
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(o.lr()).betas(betas).eps(o.eps()).weight_decay(o.weight_decay()));
  }
  return std::make_unique<torch::optim::AdamW>(
      params, torch::optim::AdamWOptions(o.lr()).betas(betas).eps(o.eps()).weight_decay(o.weight_decay()));
}

double scheduled_lr(const proto::OptimizerConfig& o, int64_t step, int64_t total) {
  if (o.schedule() == "step") return o.lr() * std::pow(o.gamma(), static_cast<double>(step / o.step_size()));
  if (o.schedule() == "cosine") {
    const double pi = std::acos(-1.0);
    return o.min_lr() + (o.lr() - o.min_lr()) * (1 + std::cos(pi * static_cast<double>(step) / total)) / 2;
  }
  return o.lr();
}

double grad_norm(const std::vector<at::Tensor>& params) {
  double sum = 0;
  for (const auto& p : params) {
    if (p.grad().defined()) sum += p.grad().pow(2).sum().item<double>();
  }
  return std::sqrt(sum);
}

}  // namespace repro::internal
