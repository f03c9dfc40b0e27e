// The built-in trainer: the steps documented in repro/trainer.h, in that order.
#include "repro/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/record_function.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "models/data/dataset.h"
#include "models/model.h"
#include "progress.h"
#include "repro/error.h"

namespace repro {
namespace {

at::Generator seeded_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

struct Splits {
  at::Tensor train_x, train_y, val_x, val_y, test_x, test_y;
};

Splits split_and_normalize(const models::LoadedData& data, const proto::DataConfig& cfg, Session& session) {
  const int64_t n = data.train.size();
  const at::Tensor perm = at::randperm(n, seeded_generator(session.seed("data.split")), at::kLong);
  const int64_t n_train = std::llround(static_cast<double>(n) * cfg.split_fraction());
  if (n_train < 1 || n_train >= n) {
    throw Error::usage("data.split_fraction: " + std::to_string(cfg.split_fraction()) + " of " + std::to_string(n) +
                       " samples leaves an empty split");
  }
  const at::Tensor train_idx = perm.slice(0, 0, n_train), val_idx = perm.slice(0, n_train, n);
  session.record_split(train_idx, val_idx, data.test.size());
  Splits s;
  s.train_x = data.train.features.index_select(0, train_idx);
  s.train_y = data.train.labels.index_select(0, train_idx);
  s.val_x = data.train.features.index_select(0, val_idx);
  s.val_y = data.train.labels.index_select(0, val_idx);
  s.test_x = data.test.features;
  s.test_y = data.test.labels;
  if (cfg.normalize()) {
    const double mean = s.train_x.mean().item<double>();
    double stdev = s.train_x.std().item<double>();
    if (!(stdev > 0)) stdev = 1;
    for (at::Tensor* x : {&s.train_x, &s.val_x, &s.test_x}) {
      if (x->defined()) *x = (*x - mean) / stdev;
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

std::map<std::string, double> evaluate(models::TrainableModel& model, const at::Tensor& x, const at::Tensor& y,
                                       int64_t batch_size) {
  at::NoGradGuard no_grad;
  model.train(false);
  double loss_sum = 0;
  int64_t correct = 0;
  const int64_t n = x.size(0);
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t end = std::min(n, begin + batch_size);
    const at::Tensor logits = model.forward(x.slice(0, begin, end));
    const at::Tensor target = y.slice(0, begin, end);
    loss_sum += at::cross_entropy_loss(logits, target, {}, at::Reduction::Sum).item<double>();
    correct += logits.argmax(1).eq(target).sum().item<int64_t>();
  }
  model.train(true);
  return {{"loss", n > 0 ? loss_sum / n : 0.0}, {"accuracy", n > 0 ? static_cast<double>(correct) / n : 0.0}};
}

double grad_norm(const std::vector<at::Tensor>& params) {
  double sum = 0;
  for (const auto& p : params) {
    if (p.grad().defined()) sum += p.grad().pow(2).sum().item<double>();
  }
  return std::sqrt(sum);
}

void run_loop(const proto::RunConfig& config, Session& session) {
  const auto& train_cfg = config.train();
  const models::LoadedData data = models::load_data(config.data(), session.seed("data.synthetic"));
  const Splits s = split_and_normalize(data, config.data(), session);
  auto model = models::make_model(config.model(), {data.input_shape, data.num_classes});
  session.watch(model->named_parameters(), model->named_buffers(), model->name(), model->summary());
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : model->named_parameters()) params.push_back(p);
  auto optimizer = make_optimizer(config.optimizer(), params);

  const int64_t n_train = s.train_x.size(0), batch = train_cfg.batch_size();
  if (batch > n_train) {
    throw Error::usage("train.batch_size: " + std::to_string(batch) + " is larger than the training split (" +
                       std::to_string(n_train) + " samples)");
  }
  auto epoch_order = [&](int64_t e) {
    return config.data().shuffle()
               ? at::randperm(n_train, seeded_generator(session.seed("data.shuffle/epoch/" + std::to_string(e))),
                              at::kLong)
               : at::arange(n_train, at::kLong);
  };
  internal::Progress progress(train_cfg.steps());
  int64_t epoch = -1, pos = n_train, first_step = 0;
  at::Tensor order;
  // A resumed run continues where its checkpoint left off: parameters, optimizer and default
  // generator restored; the epoch's order is a function of the seed, so recomputed.
  if (const auto point = session.resume(optimizer.get())) {
    first_step = point->step;
    epoch = point->epoch;
    pos = point->position;
    if (epoch >= 0) order = epoch_order(epoch);
  }
  const int64_t every = train_cfg.checkpoint_every();
  model->train(true);
  for (int64_t step = first_step; step < train_cfg.steps(); ++step) {
    if (pos + batch > n_train) {  // next epoch; the incomplete tail is dropped
      ++epoch;
      pos = 0;
      order = epoch_order(epoch);
      session.record_epoch_order(epoch, order);
    }
    const at::Tensor idx = order.slice(0, pos, pos + batch);
    pos += batch;
    const at::Tensor x = s.train_x.index_select(0, idx), y = s.train_y.index_select(0, idx);
    const double lr = scheduled_lr(config.optimizer(), step, train_cfg.steps());
    for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
    session.begin_step(step, optimizer.get(), &x);
    optimizer->zero_grad();
    at::Tensor logits;
    {
      RECORD_USER_SCOPE(model->name());  // names the model in op traces (repro/trace.h)
      logits = model->forward(x);
    }
    const at::Tensor loss = at::cross_entropy_loss(logits, y);
    loss.backward();
    StepExtras extras;
    extras.lr = lr;
    extras.grad_norm = grad_norm(params);
    extras.epoch = epoch;
    extras.batch = &x;
    optimizer->step();
    session.record_step(step, loss, extras);
    progress.update(step, loss.item<double>());
    const bool last = step + 1 == train_cfg.steps();
    if (!last && train_cfg.eval_every() > 0 && (step + 1) % train_cfg.eval_every() == 0) {
      session.record_eval(step, "validation", evaluate(*model, s.val_x, s.val_y, train_cfg.eval_batch_size()));
    }
    if (last || (every > 0 && (step + 1) % every == 0)) {
      session.save_checkpoint({step + 1, epoch, pos}, optimizer.get());
    }
  }
  progress.done();
  const int64_t last_step = train_cfg.steps() - 1;
  const auto val = evaluate(*model, s.val_x, s.val_y, train_cfg.eval_batch_size());
  session.record_eval(last_step, "validation", val);
  spdlog::info("validation: loss {:.4f}, accuracy {:.4f}", val.at("loss"), val.at("accuracy"));
  if (s.test_x.defined() && s.test_x.size(0) > 0) {
    const auto test = evaluate(*model, s.test_x, s.test_y, train_cfg.eval_batch_size());
    session.record_eval(last_step, "test", test);
    spdlog::info("test: loss {:.4f}, accuracy {:.4f}", test.at("loss"), test.at("accuracy"));
  }
}

}  // namespace

TrainOutcome train(const proto::RunConfig& config, SessionOptions options) {
  Session session(config, std::move(options));
  TrainOutcome outcome;
  outcome.run_dir = session.run_dir();
  try {
    run_loop(session.config(), session);
    session.finish();
    outcome.status = proto::FINISHED;
  } catch (const Error& e) {
    session.fail(e.what());
    // Bad input found once training started (a corrupt data file, a batch larger than the
    // data): the run is recorded as failed, and the caller reports the input error.
    if (e.kind() != ErrorKind::kInternal) throw;
    outcome.status = proto::FAILED;
    outcome.reason = e.what();
  } catch (const c10::Error& e) {
    session.fail(e.what_without_backtrace());
    outcome.status = proto::FAILED;
    outcome.reason = e.what_without_backtrace();
  } catch (const std::exception& e) {
    session.fail(e.what());
    outcome.status = proto::FAILED;
    outcome.reason = e.what();
  }
  return outcome;
}

}  // namespace repro
