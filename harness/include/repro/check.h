// repro/check.h: the nightly check — rerun configs in fresh processes, compare with the first
// run and with golden baselines, report as JUnit XML and a report directory.
#pragma once

#include <string>
#include <vector>

#include "proto/check.pb.h"
#include "proto/report.pb.h"
#include "proto/sweep.pb.h"

namespace repro {

inline constexpr unsigned kCheckReportSchemaVersion = 1;

struct CheckOptions {
  // The `repro` executable that runs each config (fresh processes). Default: this executable
  // (right when the caller is `repro` itself; a program of your own names the binary).
  std::string repro_binary;
  int runs = 2;                  // runs per entry (an entry's own `runs` wins); at least 1
  int jobs = 1;                  // runs at once; at least 1
  std::string baseline_dir;      // golden records: <baseline_dir>/<entry name>/ (a run directory)
  bool update_baseline = false;  // store each entry's first run as its baseline (needs baseline_dir)
  std::string junit_path;        // JUnit XML, when not empty
  // check.json (the CheckReport), a JSON report per comparison, plots, summary.md, the runs,
  // and site/: the HTML report of every run and comparison (repro/html_report.h).
  std::string report_dir = "check-report";
};

// Reads a suite file, or a single run config as a suite of one entry. Throws Error (input)
// naming file:line:column on a parse error (a file with an `entry` block is a suite, and its
// errors are a suite's), and naming the file when it holds no field at all.
proto::CheckSuite load_suite(const std::string& path);

// Runs the suite and returns what it found (proto/check.proto, CheckReport): every run with its
// exit code, the comparisons (each run with run 1, run 1 with the baseline), the envelope
// checks, the entry errors (a run that failed, or exited 0 without recording a run) and the
// verdict (`passed`, as check_passed()). Also writes the report directory and the JUnit XML
// (CheckOptions). Paths in entries are relative to `suite_dir` unless absolute.
// An entry with `command` runs that program (one that records with a repro::Session) instead of
// `repro run`: the program relative to `suite_dir` unless absolute or a bare name on PATH (else
// in `suite_dir`), in the entry's `cwd` (relative to `suite_dir`; default `suite_dir`), with
// REPRO_RUN_DIR, the entry's `set` as REPRO_SET and REPRO_LAUNCHER "repro check". Its
// tolerance is the entry's, over the `check` section its first run recorded.
// A baseline whose CPU kernels this machine would not choose with this process's numerics
// variables (kernel_mismatches(), repro/environment.h; a config's own pins come on top in its
// runs) is warned about, naming each, before the runs start.
// The whole suite is checked before anything runs or is written, and what cannot run as written
// is an Error naming the entry ("suite entry 2 (train): ..."): a name that is not one file name
// or that another entry has; both or neither of `config` and `command`; a config that does not
// load with the entry's `set`, or a `set` that is not an override; an envelope that does not
// load; a tolerance or `runs` out of range; a `cwd` without `command` or that is not a
// directory; a program that cannot be found or executed. So are CheckOptions::runs or jobs
// below 1, update_baseline without baseline_dir, and a CheckOptions::repro_binary given that
// does not exist or cannot be executed.
proto::CheckReport run_check(const proto::CheckSuite& suite, const std::string& suite_dir, const CheckOptions& options);

// `repro check --envelope FILE RUN_DIR...`: each run tested against the envelope
// (repro/envelope.h). The report has envelope checks only (entry empty, name the run
// directory) and no report directory; nothing is written. Throws Error (input) naming the
// file when the envelope or a run cannot be read.
proto::CheckReport check_against_envelope(const std::string& envelope_path, const std::vector<std::string>& run_dirs);

// No entry error, no divergent or incomparable comparison, every envelope check inside.
bool check_passed(const proto::CheckReport& report);

// Text, verdict last: for each comparison "<entry>: <name>: <summary>" and its differences
// ("    [numerics] field: explanation"), for each envelope check "<entry>: <name>: " and
// format_envelope_check() ("<name>: " alone without an entry), each error as "error: ...", then
// "check passed" or "check FAILED" (green or red with `color`, ANSI), the counts and, when the
// report has one, the report directory.
std::string format_check_report(const proto::CheckReport& report, bool color);

}  // namespace repro
