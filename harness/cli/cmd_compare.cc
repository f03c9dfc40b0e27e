// repro compare (placeholder until implemented).
#include "commands.h"
#include "repro/error.h"

namespace repro::cli {

int run_compare(const Args&) { throw Error::usage("repro compare: not implemented yet"); }

}  // namespace repro::cli
