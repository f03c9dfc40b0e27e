// The built-in trainer: the steps documented in repro/trainer.h, in that order.
#include "repro/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/record_function.h>
#include <spdlog/spdlog.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim.h>

#include <cmath>
#include <new>
#include <optional>
#include <string>

#include "repro/distributed.h"
#include "repro/error.h"
#include "run/builtins.h"
#include "session/progress.h"
#include "session/train_setup.h"

namespace repro {
namespace {

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

void run_loop(const proto::RunConfig& config, Session& session, const models::Builtins& built_in) {
  const auto& train_cfg = config.train();
  const models::LoadedData data = built_in.load_data(config.data(), session.seed("data.synthetic"));
  const internal::Splits s = internal::split_and_normalize(data, config.data(), session.seed("data.split"));
  session.record_split(s.train_idx, s.val_idx, data.test.size());
  auto model = built_in.make_model(config.model(), {data.input_shape, data.num_classes});
  session.watch(model->named_parameters(), model->named_buffers(), model->name(), model->summary());
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : model->named_parameters()) params.push_back(p);
  auto optimizer = internal::make_optimizer(config.optimizer(), params);

  // A data-parallel job steps through one order in global batches of world x batch samples and
  // this rank takes its share of each (repro/distributed.h, shard).
  const int world = session.world_size(), rank = session.rank();
  const int64_t n_train = s.train_x.size(0), batch = train_cfg.batch_size(), global_batch = batch * world;
  if (global_batch > n_train) {
    throw Error::usage("train.batch_size: " + std::to_string(batch) +
                       (world > 1 ? " x " + std::to_string(world) + " ranks" : std::string()) +
                       " is larger than the training split (" + std::to_string(n_train) + " samples)");
  }
  auto epoch_order = [&](int64_t e) {
    return config.data().shuffle()
               ? at::randperm(n_train,
                              internal::seeded_generator(session.seed("data.shuffle/epoch/" + std::to_string(e))),
                              at::kLong)
               : at::arange(n_train, at::kLong);
  };
  // A data-parallel job: rank 0 shows progress and the evaluations for all (every rank records
  // its own; the others would print the same lines again, prefixed by their rank).
  std::optional<internal::Progress> progress;
  if (rank == 0) progress.emplace(train_cfg.steps());
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
    if (pos + global_batch > n_train) {  // next epoch; the incomplete tail is dropped
      ++epoch;
      pos = 0;
      order = epoch_order(epoch);
      session.record_epoch_order(epoch, order);
    }
    const at::Tensor idx = shard(order.slice(0, pos, pos + global_batch), rank, world);
    pos += global_batch;
    const at::Tensor x = s.train_x.index_select(0, idx), y = s.train_y.index_select(0, idx);
    const double lr = internal::scheduled_lr(config.optimizer(), step, train_cfg.steps());
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
    session.synchronize();  // a data-parallel job: gradients averaged, buffers from rank 0
    StepExtras extras;
    extras.lr = lr;
    extras.grad_norm = internal::grad_norm(params);
    extras.epoch = epoch;
    extras.batch = &x;
    optimizer->step();
    const double recorded = session.record_step(step, loss, extras);  // the mean over the ranks
    if (progress) progress->update(step, recorded);
    const bool last = step + 1 == train_cfg.steps();
    // The last step's periodic evaluation is the final one, unless there is none.
    if ((!last || !train_cfg.final_eval()) && train_cfg.eval_every() > 0 && (step + 1) % train_cfg.eval_every() == 0) {
      session.record_eval(step, "validation", evaluate(*model, s.val_x, s.val_y, train_cfg.eval_batch_size()));
    }
    if (last || (every > 0 && (step + 1) % every == 0)) {
      session.save_checkpoint({step + 1, epoch, pos}, optimizer.get());
    }
  }
  if (progress) progress->done();
  if (!train_cfg.final_eval()) return;
  const int64_t last_step = train_cfg.steps() - 1;
  const auto val = evaluate(*model, s.val_x, s.val_y, train_cfg.eval_batch_size());
  session.record_eval(last_step, "validation", val);
  if (rank == 0) spdlog::info("validation: loss {:.4f}, accuracy {:.4f}", val.at("loss"), val.at("accuracy"));
  if (s.test_x.defined() && s.test_x.size(0) > 0) {
    const auto test = evaluate(*model, s.test_x, s.test_y, train_cfg.eval_batch_size());
    session.record_eval(last_step, "test", test);
    if (rank == 0) spdlog::info("test: loss {:.4f}, accuracy {:.4f}", test.at("loss"), test.at("accuracy"));
  }
}

}  // namespace

TrainOutcome train(const proto::RunConfig& config, SessionOptions options) {
  const models::Builtins& built_in = internal::builtins("repro::train");  // before a run directory exists
  Session session(config, std::move(options));
  TrainOutcome outcome;
  outcome.run_dir = session.run_dir();
  try {
    run_loop(session.config(), session, built_in);
    session.finish();
    outcome.status = proto::FINISHED;
  } catch (const TraceWindowClosed& e) {
    // REPRO_TRACE_STOP: the Session recorded the run as interrupted; nothing failed.
    outcome.status = proto::INTERRUPTED;
    outcome.reason = e.what();
  } catch (const Error& e) {
    // Bad input found before the first step (a corrupt data file, a batch larger than the data,
    // a file that is not TorchScript): the run never started and leaves no directory. An I/O
    // failure (no space for a checkpoint) is recorded as failed. Either way the caller reports
    // the error (exit 2 or 4) instead of a run directory.
    const bool bad_input = e.kind() == ErrorKind::kUsage || e.kind() == ErrorKind::kInput;
    bad_input ? session.abandon(e.what()) : session.fail(e.what());
    if (e.kind() != ErrorKind::kInternal) throw;
    outcome.status = proto::FAILED;
    outcome.reason = e.what();
  } catch (const c10::Error& e) {
    session.fail(e.what_without_backtrace());
    // torch's CPU allocator reports a failed allocation as a c10::Error with this wording.
    if (std::string(e.what_without_backtrace()).find("not enough memory") != std::string::npos) {
      throw Error::io(std::string("out of memory: ") + e.what_without_backtrace());
    }
    outcome.status = proto::FAILED;
    outcome.reason = e.what_without_backtrace();
  } catch (const std::bad_alloc& e) {
    session.fail(std::string("out of memory: ") + e.what());
    throw Error::io(std::string("out of memory: ") + e.what());
  } catch (const std::exception& e) {
    session.fail(e.what());
    outcome.status = proto::FAILED;
    outcome.reason = e.what();
  }
  return outcome;
}

}  // namespace repro
