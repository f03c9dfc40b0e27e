// repro rerun (placeholder until implemented).
#include "commands.h"
#include "repro/error.h"

namespace repro::cli {

int run_rerun(const Args&) { throw Error::usage("repro rerun: not implemented yet"); }

}  // namespace repro::cli
