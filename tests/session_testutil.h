// Test helpers for tests that drive a repro::Session in the test process.
#pragma once

#include <string>

#include "repro/session.h"
#include "testutil.h"

namespace repro::testing {

// Options for a Session inside a test: its runs go to `runs_dir`, it installs no signal
// handlers (the test runner keeps its own) and writes no log file.
inline SessionOptions quiet_session_options(const std::string& runs_dir) {
  SessionOptions o;
  o.runs_dir = runs_dir;
  o.handle_signals = false;
  o.log_file = false;
  return o;
}
inline SessionOptions quiet_session_options(const TempDir& runs_dir) {
  return quiet_session_options(runs_dir.path().string());
}

}  // namespace repro::testing
