// repro show (placeholder until implemented).
#include "commands.h"
#include "repro/error.h"

namespace repro::cli {

int run_show(const Args&) { throw Error::usage("repro show: not implemented yet"); }

}  // namespace repro::cli
