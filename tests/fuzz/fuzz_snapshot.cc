// Fuzz target: a weights snapshot (`repro export --to`), recognised and loaded as a user's
// program or `repro doctor` loads one.
#include "fuzz_input.h"
#include "repro/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = repro::fuzz::write_file("weights.snapshot", repro::fuzz::as_string(data, size));
  repro::fuzz::errors_only([&] {
    if (repro::is_snapshot_file(path)) (void)repro::load_snapshot(path);
  });
  repro::fuzz::errors_only([&] { (void)repro::load_snapshot(path); });
  return 0;
}
