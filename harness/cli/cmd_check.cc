// repro check (placeholder until implemented).
#include "commands.h"
#include "repro/error.h"

namespace repro::cli {

int run_check(const Args&) { throw Error::usage("repro check: not implemented yet"); }

}  // namespace repro::cli
