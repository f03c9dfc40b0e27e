// Fuzz target: a checkpoint file (its framing and checksum, then the archive inside), read and
// restored as `repro resume` does, into the tensors and optimizer of the run that made the seed
// corpus (fuzz_mlp.h). The digest is no barrier to a fuzzer (it copies compared values), so the
// archive behind it is fuzzed too; fuzz_archive does that more directly.
#include "fuzz_input.h"
#include "fuzz_mlp.h"
#include "repro/checkpoint.h"
#include "run/checkpoint_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static repro::fuzz::Mlp model;
  const std::string path = repro::fuzz::write_file("ckpt-00000001.ckpt", repro::fuzz::as_string(data, size));
  repro::fuzz::errors_only([&] {
    const std::string payload = repro::read_checkpoint_file(path);
    (void)repro::internal::read_checkpoint_counts(payload, path);
    (void)repro::internal::restore_checkpoint_archive(payload, path, model.watched, model.optimizer.get(), {});
  });
  return 0;
}
