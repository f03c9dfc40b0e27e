#include "session/launch_environment.h"

#include <cstdint>
#include <cstdlib>
#include <string>

#include "repro/config.h"
#include "repro/error.h"
#include "util/env_names.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

// A positive decimal integer that fits 64 bits; nothing else (no sign, no spaces, no hex).
bool parse_seed(const std::string& text, std::uint64_t* seed) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *seed = value;
  return value > 0;
}

}  // namespace

void apply_launch_environment(proto::RunConfig* config, proto::RunRecord* header) {
  if (const char* sets = std::getenv(kEnvSet)) {
    for (const auto& assignment : split(sets, '\n')) {
      if (assignment.empty()) continue;
      apply_override(config, assignment);
      header->add_overrides(assignment);
    }
  }
  if (const char* text = std::getenv(kEnvSeed)) {
    std::uint64_t seed = 0;
    if (!parse_seed(text, &seed)) {
      throw Error::usage(std::string(kEnvSeed) + ": '" + text + "' is not a positive integer (the master seed)");
    }
    config->set_seed(seed);
  }
  if (const char* launcher = std::getenv(kEnvLauncher)) header->set_launcher(launcher);
}

bool param_overridden(const proto::RunRecord& header, const std::string& name) {
  const std::string prefix = "params." + name + "=";
  for (const auto& o : header.overrides()) {
    if (o.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace repro::internal
