// repro ls (placeholder until implemented).
#include "commands.h"
#include "repro/error.h"

namespace repro::cli {

int run_ls(const Args&) { throw Error::usage("repro ls: not implemented yet"); }

}  // namespace repro::cli
