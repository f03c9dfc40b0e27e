// How `repro run` and `repro resume` report a finished training: the run directory last on
// stdout (or JSON), the reason on stderr when it failed.
#pragma once

#include <string>

#include "repro/trainer.h"

namespace repro::cli {

// Prints the outcome and returns the exit code: 0 finished (or stopped after a trace window:
// interrupted), 1 failed.
int report_outcome(const std::string& command, const TrainOutcome& outcome, bool json);

}  // namespace repro::cli
