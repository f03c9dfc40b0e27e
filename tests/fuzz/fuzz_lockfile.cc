// Fuzz target: a lock file (environment.lock, `repro env --verify`), parsed.
#include "env/lockfile.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = repro::fuzz::as_string(data, size);
  repro::fuzz::errors_only([&] { (void)repro::internal::parse_lock(text, "fuzz.lock"); });
  return 0;
}
