// Fuzz target: an envelope file (JSON, `repro sweep --save-envelope`), loaded and validated as
// `repro check --envelope` does.
#include "fuzz_input.h"
#include "repro/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = repro::fuzz::write_file("envelope.json", repro::fuzz::as_string(data, size));
  repro::fuzz::errors_only([&] { (void)repro::load_envelope(path); });
  return 0;
}
