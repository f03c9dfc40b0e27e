// Fuzz target: `--set path=value` overrides, one per line of the input, applied in order to a
// config (as `repro run --set` and REPRO_SET do), then resolved and digested.
#include <algorithm>

#include "fuzz_input.h"
#include "repro/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = repro::fuzz::as_string(data, size);
  repro::fuzz::errors_only([&] {
    repro::proto::RunConfig config;
    std::size_t begin = 0;
    while (begin <= text.size()) {
      const std::size_t end = std::min(text.find('\n', begin), text.size());
      repro::apply_override(&config, text.substr(begin, end - begin));
      begin = end + 1;
    }
    repro::resolve_config(&config);
    (void)repro::config_digest(config);
  });
  return 0;
}
