// A user's data-parallel program (repro/distributed.h), for the distributed scenarios:
//
//   rank_trainer RUNS_DIR [MODE]
//
// MODE "own-seed": rank 1 seeds torch by hand before building its model (the initial check
// names it); "corrupt": rank 1's bias changes by itself after step 3's update, as a silent
// corruption or a rank-local random draw would change it (the digest check at step 3 names it);
// "rank1-data": rank 1's copy of step 2's rows differs in one value, as data read on one rank
// only would (the ranks stay in step: the all-reduce makes the parameters equal again);
// default: a correct program. A linear model on a global batch of 16 synthetic rows drawn
// from the session's seed (the same on every rank), each rank training on its shard of it.
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include <iostream>
#include <random>
#include <string>

#include "repro/distributed.h"
#include "repro/session.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: rank_trainer RUNS_DIR [own-seed|corrupt|rank1-data]\n";
    return 2;
  }
  const std::string mode = argc > 2 ? argv[2] : "";
  try {
    repro::SessionOptions options;
    options.runs_dir = argv[1];
    repro::Session session(repro::parse_config("seed: 5\nrecord { flush_every: 1 param_digest_every: 1 }\n"
                                               "data { source: \"synthetic\" }\n",
                                               "rank_trainer"),
                           options);
    if (mode == "own-seed" && session.rank() == 1) torch::manual_seed(999);
    torch::nn::Linear model(torch::nn::LinearOptions(8, 1));
    session.watch(*model, "linear");
    torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05));
    auto gen = session.rng("inputs");
    std::normal_distribution<float> normal;
    for (int64_t step = 0; step < 8; ++step) {
      std::vector<float> values(16 * 8);
      for (auto& v : values) v = normal(gen);
      if (mode == "rank1-data" && session.rank() == 1 && step == 2) values[8 + 3] += 0.25f;  // row 1: rank 1's
      const at::Tensor global = at::from_blob(values.data(), {16, 8}).clone();
      const at::Tensor rows = repro::shard(at::arange(16, at::kLong), session.rank(), session.world_size());
      const at::Tensor x = global.index_select(0, rows);
      at::Tensor loss = (model->forward(x) - x.sum(1, true)).pow(2).mean();
      optimizer.zero_grad();
      loss.backward();
      session.synchronize();
      optimizer.step();
      if (mode == "corrupt" && session.rank() == 1 && step == 3) {
        at::NoGradGuard no_grad;
        model->bias.add_(1e-3);
      }
      session.record_step(step, loss);
    }
    session.finish();
  } catch (const repro::Error& e) {
    std::cerr << "rank_trainer: " << e.what() << "\n";
    return e.exit_code();
  }
  return 0;
}
