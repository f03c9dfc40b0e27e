// header_differences, environment part: every item of environment_differences (env/), which
// alone decides what differs and whether it can change numerics, named "environment.<field>".
#include "compare/compare_differences.h"
#include "env/environment_diff.h"

namespace repro::internal {

void add_environment_differences(const proto::Environment& a, const proto::Environment& b, DifferenceList& out) {
  for (const auto& d : environment_differences(a, b)) {
    out.add("environment", "environment." + d.field, d.a, d.b, d.affects_numerics, d.what, d.why);
  }
}

}  // namespace repro::internal
