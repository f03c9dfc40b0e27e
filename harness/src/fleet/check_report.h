// Private: what `repro check` writes: JSON reports, plots and summary.md under the report
// directory, and JUnit XML.
#pragma once

#include "repro/check.h"

namespace repro::internal {

// Writes <report_dir>/check.json (the report, as `repro check --json` prints it),
// <report_dir>/<entry>/<comparison>.json for every comparison, a plot (PNG and SVG, via
// tools/plot_divergence when it and /usr/bin/python3 are found) for each divergent one,
// <report_dir>/summary.md, and options.junit_path when set. Never throws for a missing plot
// tool: the summary says the plot was skipped and why.
void write_check_report(const proto::CheckReport& report, const CheckOptions& options);

// The JUnit XML of a check: one <testsuite> per entry, one <testcase> per comparison and per
// envelope check; a failure carries the summary and every difference's explanation (or the
// envelope check's text); passing cases list the differences (notes) in <system-out>; entry
// errors are <error>s.
std::string junit_xml(const proto::CheckReport& report);

}  // namespace repro::internal
