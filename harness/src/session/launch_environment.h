// Private: what a launcher (`repro run -- PROGRAM`, sweep, check, rerun) tells a new run through
// the environment (util/env_names.h): REPRO_SEED, REPRO_SET and REPRO_LAUNCHER.
#pragma once

#include "proto/run_config.pb.h"
#include "proto/run_record.pb.h"

namespace repro::internal {

// Applies the launch variables to a new run's `config` (before it is resolved) and records them
// in `header`: REPRO_SET's assignments (one per line, empty lines skipped) through
// apply_override, in order, into header->overrides; REPRO_SEED replaces config->seed;
// REPRO_LAUNCHER becomes header->launcher. Nothing is changed when none is set. Throws Error
// (usage) naming REPRO_SEED when it is not a positive integer, and what apply_override throws
// (naming the assignment) for a bad one.
void apply_launch_environment(proto::RunConfig* config, proto::RunRecord* header);

// True when the parameter `name` was given by the launcher: an assignment "params.<name>=..." in
// `header.overrides()`.
bool param_overridden(const proto::RunRecord& header, const std::string& name);

}  // namespace repro::internal
