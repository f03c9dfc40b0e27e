// Fuzz target: a run config in protobuf text format, as `repro run --config` reads it: parse,
// resolve defaults, validate (ranges, names, the data files it names), digest.
#include "fuzz_input.h"
#include "repro/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = repro::fuzz::as_string(data, size);
  repro::fuzz::errors_only([&] {
    repro::proto::RunConfig config = repro::parse_config(text, "fuzz.textproto");
    repro::resolve_config(&config);
    repro::validate_config(config, "fuzz.textproto");
    (void)repro::config_digest(config);
  });
  return 0;
}
