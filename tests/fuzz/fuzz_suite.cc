// Fuzz target: a `repro check` suite file (or a run config standing for a suite of one), as
// load_suite reads it from disk.
#include "fuzz_input.h"
#include "repro/check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = repro::fuzz::write_file("suite.textproto", repro::fuzz::as_string(data, size));
  repro::fuzz::errors_only([&] { (void)repro::load_suite(path); });
  return 0;
}
