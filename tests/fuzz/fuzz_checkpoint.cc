// Fuzz target: a checkpoint file (its framing and checksum, then the archive inside), read and
// restored as `repro resume` does, into the tensors and optimizer of the run that made the seed
// corpus (an mlp 2-3-2 with SGD and momentum; corpus/fuzz_checkpoint/README).
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include "fuzz_input.h"
#include "repro/checkpoint.h"
#include "run/checkpoint_archive.h"

namespace {

struct Model {
  repro::internal::NamedTensors watched;
  std::unique_ptr<torch::optim::SGD> optimizer;
  Model() {
    for (const auto& [name, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
             {"hidden.0.weight", {3, 2}}, {"hidden.0.bias", {3}}, {"output.weight", {2, 3}}, {"output.bias", {2}}}) {
      watched.emplace_back(name, torch::zeros(shape).requires_grad_());
    }
    std::vector<torch::Tensor> params;
    for (const auto& [name, t] : watched) params.push_back(t);
    optimizer = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(0.1).momentum(0.9));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Model model;
  const std::string path = repro::fuzz::write_file("ckpt-00000001.ckpt", repro::fuzz::as_string(data, size));
  repro::fuzz::errors_only([&] {
    const std::string payload = repro::read_checkpoint_file(path);
    (void)repro::internal::read_checkpoint_counts(payload, path);
    (void)repro::internal::restore_checkpoint_archive(payload, path, model.watched, model.optimizer.get(), {});
  });
  return 0;
}
