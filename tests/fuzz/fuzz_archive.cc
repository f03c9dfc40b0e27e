// Fuzz target: the torch archive inside a checkpoint or snapshot, without the frame whose digest
// a fuzzer would have to forge first. check_torch_archive (run/archive_check.h) decides what
// reaches torch's reader; whatever passes is loaded and every value in it read, then restored
// as a checkpoint into the tensors and optimizer of fuzz_checkpoint's seed run (fuzz_mlp.h).
// Seeds: the archives inside the seed files of fuzz_checkpoint and fuzz_snapshot.
#include <torch/serialize/input-archive.h>

#include "fuzz_input.h"
#include "fuzz_mlp.h"
#include "run/archive_check.h"
#include "run/checkpoint_archive.h"

namespace {

// Every value of `archive`, nested archives included, read as torch hands it out.
void read_all(torch::serialize::InputArchive& archive, int depth) {
  for (const std::string& key : archive.keys()) {
    c10::IValue value;
    if (archive.try_read(key, value) && value.isTensor()) (void)value.toTensor().sum().item<double>();
    torch::serialize::InputArchive nested;
    if (depth < 8 && archive.try_read(key, nested)) read_all(nested, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static repro::fuzz::Mlp model;
  const std::string payload = repro::fuzz::as_string(data, size);
  repro::fuzz::errors_only([&] {
    torch::serialize::InputArchive archive;
    repro::internal::load_torch_archive(archive, payload, "archive", "checkpoint");
    repro::internal::archive_context("archive", [&] { read_all(archive, 0); });
  });
  repro::fuzz::errors_only([&] {
    (void)repro::internal::restore_checkpoint_archive(payload, "archive", model.watched, model.optimizer.get(), {});
  });
  return 0;
}
