#include "tolerance_flags.h"

#include <cmath>

#include "repro/error.h"

namespace repro::cli {

void add_tolerance_flags(po::options_description& options) {
  options.add_options()("rtol", po::value<double>()->value_name("X"),
                        "relative tolerance on losses and metrics (default: the config's check.rtol, 0)")(
      "atol", po::value<double>()->value_name("X"), "absolute tolerance (default: the config's check.atol, 0)")(
      "from-step", po::value<int64_t>()->value_name("N"), "judge only steps >= N (default: check.from_step, 0)");
}

Tolerance tolerance_from_flags(const po::variables_map& vm, Tolerance base) {
  if (vm.count("rtol")) base.rtol = vm["rtol"].as<double>();
  if (vm.count("atol")) base.atol = vm["atol"].as<double>();
  if (vm.count("from-step")) base.from_step = vm["from-step"].as<int64_t>();
  if (!(base.rtol >= 0) || std::isinf(base.rtol)) throw Error::usage("--rtol: must be a finite number >= 0");
  if (!(base.atol >= 0) || std::isinf(base.atol)) throw Error::usage("--atol: must be a finite number >= 0");
  if (base.from_step < 0) throw Error::usage("--from-step: must be >= 0");
  return base;
}

}  // namespace repro::cli
