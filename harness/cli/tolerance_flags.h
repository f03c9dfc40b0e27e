// The tolerance flags shared by compare, rerun and check: --rtol, --atol, --from-step.
#pragma once

#include "options.h"
#include "repro/compare.h"

namespace repro::cli {

// Adds --rtol, --atol and --from-step to `options`.
void add_tolerance_flags(po::options_description& options);

// The tolerance: `base` (from a config's check section) with any flag given overriding it.
// Throws Error (usage) for negative values.
Tolerance tolerance_from_flags(const po::variables_map& vm, Tolerance base);

}  // namespace repro::cli
