// Benchmark program: the bare LibTorch loop a user would write, for tools/bench/side_by_side.
// Not a test. Same model, data, split, normalisation, epoch orders, batches and optimizer as
// the built-in trainer (repro/trainer.h), through the same functions, but no Session: no
// determinism settings beyond threads and the default generator's seed, no records, no
// evaluations.
//
//   build/bench_loop --config FILE [--set path=value]... [--warmup W]
//
// Prints one JSON object: first_step_s (from the kernel's start time of this process to the end
// of step 0), steps_per_s (steps after the first W), loss0 and steps.
#include <ATen/ATen.h>
#include <torch/optim.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "models/data/dataset.h"
#include "models/model.h"
#include "models/models.h"
#include "repro/config.h"
#include "repro/determinism.h"
#include "repro/error.h"
#include "session/train_setup.h"
#include "util/process.h"

namespace {

using repro::bench::Clock;
using repro::bench::seconds_since;

int run(int argc, char** argv) {
  std::string config_path;
  std::vector<std::string> sets;
  int64_t warmup = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) throw repro::Error::usage("bench_loop: " + a + " needs a value");
    if (a == "--config") {
      config_path = argv[++i];
    } else if (a == "--set") {
      sets.emplace_back(argv[++i]);
    } else if (a == "--warmup") {
      warmup = std::stoll(argv[++i]);
    } else {
      throw repro::Error::usage("bench_loop: unknown flag " + a);
    }
  }
  if (config_path.empty()) throw repro::Error::usage("bench_loop --config FILE [--set path=value]... [--warmup W]");
  const repro::proto::RunConfig config = repro::load_config(config_path, sets);
  at::set_num_threads(static_cast<int>(config.determinism().intra_op_threads()));
  at::set_num_interop_threads(static_cast<int>(config.determinism().inter_op_threads()));
  at::manual_seed(repro::derive_seed(config.seed(), "torch.default"));

  namespace models = repro::models;
  namespace internal = repro::internal;
  const models::LoadedData data = models::load_data(config.data(), repro::derive_seed(config.seed(), "data.synthetic"));
  const internal::Splits s =
      internal::split_and_normalize(data, config.data(), repro::derive_seed(config.seed(), "data.split"));
  auto model = models::make_model(config.model(), {data.input_shape, data.num_classes});
  std::vector<at::Tensor> params;
  for (const auto& [name, p] : model->named_parameters()) params.push_back(p);
  auto optimizer = internal::make_optimizer(config.optimizer(), params);

  const int64_t n_train = s.train_x.size(0), batch = config.train().batch_size(), steps = config.train().steps();
  int64_t epoch = -1, pos = n_train;
  at::Tensor order;
  double first_step_s = 0, loss0 = 0;
  Clock::time_point t_warm = Clock::now();
  model->train(true);
  for (int64_t step = 0; step < steps; ++step) {
    if (step == warmup) t_warm = Clock::now();
    if (pos + batch > n_train) {
      ++epoch;
      pos = 0;
      order = at::randperm(
          n_train,
          internal::seeded_generator(repro::derive_seed(config.seed(), "data.shuffle/epoch/" + std::to_string(epoch))),
          at::kLong);
    }
    const at::Tensor idx = order.slice(0, pos, pos + batch);
    pos += batch;
    const at::Tensor x = s.train_x.index_select(0, idx), y = s.train_y.index_select(0, idx);
    optimizer->zero_grad();
    const at::Tensor loss = at::cross_entropy_loss(model->forward(x), y);
    loss.backward();
    optimizer->step();
    const double value = loss.item<double>();
    if (step == 0) {
      first_step_s = repro::internal::process_age_s();  // as python_loop.py measures it
      loss0 = value;
    }
  }
  const double timed = seconds_since(t_warm);
  std::printf("{\"first_step_s\": %.6f, \"steps_per_s\": %.6f, \"loss0\": %.9g, \"steps\": %lld}\n", first_step_s,
              steps > warmup ? static_cast<double>(steps - warmup) / timed : 0.0, loss0, static_cast<long long>(steps));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_loop: " << e.what() << "\n";
    return 2;
  }
}
