// repro run (placeholder until implemented).
#include "commands.h"
#include "repro/error.h"

namespace repro::cli {

int run_run(const Args&) { throw Error::usage("repro run: not implemented yet"); }

}  // namespace repro::cli
