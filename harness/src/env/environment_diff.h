// Private: the numerics-relevant differences between two captured environments.
#pragma once

#include <string>
#include <vector>

#include "proto/environment.pb.h"

namespace repro::internal {

// One line per fact that can change numerics and differs, "<fact>: <before> -> <after>":
// intra-op and inter-op threads, torch version and package, CPU capability, oneDNN version
// and ISA, the real path of each numerics library by role (blas, lapack, openmp, onednn...),
// and the numerics variables (numerics_env). Empty when nothing relevant differs.
std::vector<std::string> numerics_differences(const proto::Environment& before, const proto::Environment& after);

}  // namespace repro::internal
