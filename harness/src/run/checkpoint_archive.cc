// Checkpoint contents through torch's serialization (keys in checkpoint_archive.h).
#include "run/checkpoint_archive.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "repro/error.h"
#include "run/archive_check.h"

namespace repro::internal {
namespace {

constexpr int64_t kFormat = 1;

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

std::pair<CheckpointState, CheckpointCounts> read_counts(torch::serialize::InputArchive& archive,
                                                         const std::string& path) {
  return archive_context(path + ": unreadable checkpoint", [&] {
    const int64_t format = read_int(archive, "repro_format");
    if (format != kFormat) {
      throw Error::input(path + ": checkpoint format " + std::to_string(format) + " is not " + std::to_string(kFormat));
    }
    CheckpointState state;
    state.step = read_int(archive, "repro_step");
    state.epoch = read_int(archive, "repro_epoch");
    state.position = read_int(archive, "repro_position");
    CheckpointCounts counts;
    counts.steps_recorded = read_int(archive, "repro_steps_recorded");
    counts.evals_recorded = read_int(archive, "repro_evals_recorded");
    counts.last_step = read_int(archive, "repro_last_step");
    return std::make_pair(state, counts);
  });
}

std::string save_archive(const CheckpointState& state, const CheckpointCounts& counts, const NamedTensors& watched,
                         torch::optim::Optimizer* optimizer, const CheckpointSaveHook& user) {
  torch::serialize::OutputArchive archive;
  archive.write("repro_format", c10::IValue(kFormat));
  archive.write("repro_step", c10::IValue(state.step));
  archive.write("repro_epoch", c10::IValue(state.epoch));
  archive.write("repro_position", c10::IValue(state.position));
  archive.write("repro_steps_recorded", c10::IValue(counts.steps_recorded));
  archive.write("repro_evals_recorded", c10::IValue(counts.evals_recorded));
  archive.write("repro_last_step", c10::IValue(counts.last_step));
  // Names may hold dots, which archive keys may not: values go under their index.
  c10::List<std::string> names;
  for (const auto& w : watched) names.push_back(w.first);
  archive.write("repro_names", c10::IValue(names));
  for (std::size_t i = 0; i < watched.size(); ++i) {
    archive.write("watched_" + std::to_string(i), watched[i].second.detach().clone(), /*is_buffer=*/true);
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    archive.write("rng_cpu", gen.get_state(), /*is_buffer=*/true);
  }
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive nested;
    optimizer->save(nested);
    archive.write("optimizer", nested);
  }
  if (user) {
    torch::serialize::OutputArchive nested;
    user(nested);
    archive.write("user", nested);
  }
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

}  // namespace

std::string save_checkpoint_archive(const CheckpointState& state, const CheckpointCounts& counts,
                                    const NamedTensors& watched, torch::optim::Optimizer* optimizer,
                                    const CheckpointSaveHook& user) {
  return with_context("checkpoint after " + std::to_string(state.step) + " steps",
                      [&] { return save_archive(state, counts, watched, optimizer, user); });
}

std::pair<CheckpointState, CheckpointCounts> read_checkpoint_counts(const std::string& payload,
                                                                    const std::string& path) {
  torch::serialize::InputArchive archive;
  load_torch_archive(archive, payload, path, "checkpoint");
  return read_counts(archive, path);
}

CheckpointState restore_checkpoint_archive(const std::string& payload, const std::string& path,
                                           const NamedTensors& watched, torch::optim::Optimizer* optimizer,
                                           const CheckpointLoadHook& user) {
  torch::serialize::InputArchive archive;
  load_torch_archive(archive, payload, path, "checkpoint");
  const CheckpointState state = read_counts(archive, path).first;
  std::vector<std::string> names;
  archive_context(path + ": unreadable checkpoint", [&] {
    c10::IValue value;
    archive.read("repro_names", value);
    for (const c10::IValue& name : value.toListRef()) names.push_back(name.toStringRef());
  });
  if (names.size() != watched.size()) {
    throw Error::input(path + ": checkpoint holds " + std::to_string(names.size()) + " tensors, the session watches " +
                       std::to_string(watched.size()));
  }
  {
    at::NoGradGuard no_grad;
    for (std::size_t i = 0; i < watched.size(); ++i) {
      const std::string& name = names[i];
      if (name != watched[i].first) {
        throw Error::input(path + ": tensor " + std::to_string(i) + " is '" + name + "' in the checkpoint, '" +
                           watched[i].first + "' in the session");
      }
      at::Tensor value;
      archive_context(path + ": tensor " + name, [&] { archive.read("watched_" + std::to_string(i), value, true); });
      if (!value.sizes().equals(watched[i].second.sizes()) || value.scalar_type() != watched[i].second.scalar_type()) {
        throw Error::input(path + ": tensor '" + name + "' has another shape or dtype in the checkpoint");
      }
      at::Tensor target = watched[i].second;
      target.copy_(value);
    }
  }
  archive_context(path + ": optimizer and generator state", [&] {
    if (optimizer != nullptr) {
      torch::serialize::InputArchive nested;
      if (!archive.try_read("optimizer", nested)) throw Error::input(path + ": checkpoint holds no optimizer state");
      optimizer->load(nested);
    }
    at::Tensor rng;
    archive.read("rng_cpu", rng, true);
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  });
  if (user) {
    torch::serialize::InputArchive nested;
    const bool found = archive_context(path + ": user state", [&] { return archive.try_read("user", nested); });
    if (!found) throw Error::input(path + ": checkpoint holds no user state");
    user(nested);
  }
  return state;
}

}  // namespace repro::internal
