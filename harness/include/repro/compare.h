// repro/compare.h: compare two runs and explain the difference.
//
//   RunData a = read_run("runs/A"), b = read_run("runs/B");
//   proto::ComparisonReport report = repro::compare_runs(a, b);
//   std::cout << repro::format_report(report, /*color=*/false);
//
// Comparison is bitwise first: the loss of every common step is compared as IEEE-754 bits,
// parameter digests where both runs recorded one, evaluation metrics exactly. A tolerance
// (rtol, atol, from_step) then decides whether differences count as divergence. Every
// difference between the two headers (config, seeds, data, code, environment, model) is listed
// with a one-line explanation and whether it can change numbers (for the environment, the same
// rule a strict resume refuses by; libraries are compared one by one within each role). A
// divergence is a result, never an exception.
#pragma once

#include <string>

#include "proto/report.pb.h"
#include "repro/record.h"

namespace repro {

inline constexpr unsigned kComparisonReportSchemaVersion = 1;

// Bitwise unless set. A step's losses la, lb are within tolerance when
// |la - lb| <= atol + rtol * |lb|; metrics likewise. Steps before from_step are compared and
// reported but never make the verdict "diverged".
struct Tolerance {
  double rtol = 0;
  double atol = 0;
  int64_t from_step = 0;
};

// The tolerance a config asks for in its check section (zero when absent).
Tolerance tolerance_of(const proto::RunConfig& config);

// Compares `a` (the reference) with `b` over their common steps. Verdict: identical when every
// compared loss, parameter digest and final metric is bitwise equal; within_tolerance when all
// differences are within `tolerance`; diverged otherwise; incomparable when there is no common
// step. A run that stopped early is compared over the common steps and `stopped_early` says so.
proto::ComparisonReport compare_runs(const RunData& a, const RunData& b, const Tolerance& tolerance = {});

// The differences between two run headers (config, seeds, data, code, environment, model),
// each with its explanation; also part of compare_runs' report. A tracked directory whose
// digest differs is named by its files ("data/train: 2,000 files added, 1 changed (added: ...)",
// field "data.files[<role>].files") from the manifests in the run directories `dir_a` and
// `dir_b`; without them (or when a manifest is unreadable) by its file counts only.
std::vector<proto::Difference> header_differences(const proto::RunRecord& a, const proto::RunRecord& b,
                                                  const std::string& dir_a = "", const std::string& dir_b = "");

// Text: first the verdict and summary, then the named causes (differences table, numerics-
// affecting first), then the numbers (steps compared, first divergent step, max diffs,
// metrics) and a compact per-step table around the first divergence. ANSI colour when `color`.
std::string format_report(const proto::ComparisonReport& report, bool color);

// 0 for identical and within_tolerance, 1 for diverged and incomparable.
int exit_code_of(const proto::ComparisonReport& report);

}  // namespace repro
