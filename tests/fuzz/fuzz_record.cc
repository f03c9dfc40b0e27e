// Fuzz target: a run directory's record.pb (the header), read as `repro show` and `compare` read
// it, then compared with itself (every header field walked by the difference finder).
#include <filesystem>

#include "fuzz_input.h"
#include "repro/compare.h"
#include "repro/record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string dir = repro::fuzz::scratch_dir() + "/run";
  std::filesystem::remove_all(dir);
  repro::fuzz::write_file("run/record.pb", repro::fuzz::as_string(data, size));
  repro::fuzz::errors_only([&] {
    const repro::RunData run = repro::read_run(dir);
    (void)repro::compare_runs(run, run);
  });
  return 0;
}
