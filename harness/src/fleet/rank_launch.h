// Private: starting the ranks of a data-parallel job on this machine, as torchrun does
// (repro/launch.h, LaunchOptions::nproc): the rank variables, output prefixed by rank, and one
// failure ending all.
#pragma once

#include <string>

#include "repro/launch.h"
#include "util/process.h"

namespace repro::internal {

// A port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
// Throws Error (io) when no socket can be bound.
int free_local_port();

// Starts options.nproc copies of `child`, each with RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and REPRO_DIST_TIMEOUT_S added to its
// environment, their stdout and stderr merged and copied line by line to our stderr as
// "[rank R] line". Waits for all. When one exits other than 0, the others get SIGTERM, and
// SIGKILL 3 s later; returns that first failure's exit code and sets *reason, with the rank's
// last line of output ("rank 1 exited with status 2: repro run: MASTER_PORT 29500: ..."). Returns 0 when every rank
// exits 0.
int run_ranks(const ChildSpec& child, const LaunchOptions& options, std::string* reason);

}  // namespace repro::internal
