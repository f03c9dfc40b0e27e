// repro/check.h: the nightly check — rerun configs in fresh processes, compare with the first
// run and with golden baselines, report as JUnit XML and a report directory.
#pragma once

#include <string>
#include <vector>

#include "proto/check.pb.h"
#include "proto/report.pb.h"
#include "proto/sweep.pb.h"

namespace repro {

struct CheckOptions {
  // The `repro` executable that runs each config (fresh processes). Default: this executable
  // (right when the caller is `repro` itself; a program of your own names the binary).
  std::string repro_binary;
  int runs = 2;                // runs per entry (an entry's own `runs` wins)
  int jobs = 1;                // runs at once
  std::string baseline_dir;    // golden records: <baseline_dir>/<entry name>/ (a run directory)
  bool update_baseline = false;
  std::string junit_path;      // JUnit XML, when not empty
  std::string report_dir;      // JSON reports, plots, summary.md; also holds the runs
};

struct CheckComparison {
  std::string entry;
  std::string name;  // "run 2 vs run 1", "run 1 vs baseline"
  proto::ComparisonReport report;
};

struct CheckEnvelope {
  std::string entry;
  std::string name;  // "run 1 vs envelope"
  proto::EnvelopeCheck check;
};

struct CheckResult {
  std::vector<CheckComparison> comparisons;
  std::vector<CheckEnvelope> envelope_checks;  // entries with an envelope (repro/envelope.h)
  std::vector<std::string> errors;  // entries that could not run: "<entry>: <reason>"
  bool passed() const;  // no error, no divergence, every run inside its entry's envelope
};

// Reads a suite file, or a single run config as a suite of one entry. Throws Error (input)
// naming file:line:column on a parse error.
proto::CheckSuite load_suite(const std::string& path);

// Runs the suite. Entry configs are resolved relative to `suite_dir`. Throws Error (input)
// naming CheckOptions::repro_binary, before anything runs, when it is given and does not exist
// or cannot be executed. An entry that cannot run (bad config, failed run) is not an
// exception: it is listed in `errors`.
CheckResult run_check(const proto::CheckSuite& suite, const std::string& suite_dir, const CheckOptions& options);

}  // namespace repro
