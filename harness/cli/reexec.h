// Re-executing `repro` with CPU-kernel pins in the environment (shared by run and resume).
#pragma once

#include <map>
#include <string>

namespace repro::cli {

// Pins of CPU kernel selection (repro/determinism.h, missing_pins) must be in the environment
// before torch starts: sets them and execs /proc/self/exe with the same arguments. Returns
// only by throwing: Error (internal) when the exec fails or the pins were already set by an
// earlier re-execution and still are not in effect.
[[noreturn]] void reexecute_with(const std::map<std::string, std::string>& pins);

}  // namespace repro::cli
