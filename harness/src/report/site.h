// Private: the pieces of the HTML report (repro/html_report.h), one concern per file —
// site_index.cc, site_run.cc, site_compare.cc, site_curves.cc, site_fields.cc — put together by
// html_report.cc. Markup comes only from report/html_templates.h.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proto/report.pb.h"
#include "proto/trace.pb.h"
#include "report/html_templates.h"
#include "repro/record.h"
#include "util/exact.h"

namespace repro::internal {

struct SiteRun {
  RunData data;
  std::string id;    // the run id ("-" when the header has none)
  std::string page;  // "run-<id, made safe for a file name>.html"
};

struct SiteComparison {
  const SiteRun* a = nullptr;
  const SiteRun* b = nullptr;
  proto::ComparisonReport report;
  std::optional<proto::TraceReport> trace;  // `repro trace` left one for this pair
  std::string page;                         // "compare-<a>-<b>.html"
};

// The pages.
std::string index_page(const std::string& title, const std::vector<SiteRun>& runs,
                       const std::vector<SiteComparison>& comparisons);
std::string run_page(const SiteRun& run, const std::vector<SiteComparison>& comparisons);
std::string compare_page(const SiteComparison& comparison);

// A message's fields as (path, value) rows, depth first in field order: nested messages as
// "a.b", repeated fields as "a[0]", map entries as "a[key]"; every singular scalar with its
// value (defaults too), unset sub-messages left out. Floating-point values print exact
// (util/exact.h), enums by name, bytes as their size. A repeated field of more than 20 items
// lists its first 16 and then one row "a[16..N-1]": "<N-16> more, XXH3 <digest of the rest>".
std::vector<std::pair<std::string, std::string>> flatten(const google::protobuf::Message& message,
                                                         const std::string& prefix = "");

// One recorded series of a run: its values by step ("loss" for a run with one).
struct Series {
  std::string name;
  std::vector<std::pair<std::int64_t, ExactValue>> values;
};
std::vector<Series> run_series(const RunData& run);

// Curves. A line is (x, y) points sorted by x.
using Points = std::vector<std::pair<double, double>>;
// At most two points per column of `columns` equal columns over [x0, x1]: the lowest and the
// highest of the column, in x order, so that a line drawn through them has the shape of the
// whole (every spike stays); points outside [x0, x1] and non-finite ones are dropped.
Points downsample(const Points& points, double x0, double x1, int columns);
enum class Axis { kLinear, kLog };
struct Curve {
  std::string label;
  Points points;
  int colour = 0;  // Polyline::colour
};
// A chart of `curves` sharing axes, downsampled to the plot's width; on a log axis, values
// <= 0 sit on the bottom edge (labelled "0"). `marker_step`: a vertical line there, labelled.
Html curve_chart(const std::string& id, const std::string& title, const std::vector<Curve>& curves, Axis axis,
                 std::optional<std::int64_t> marker_step, const std::string& marker_label);

// "diverged", "identical", "within_tolerance", "incomparable", "unspecified".
std::string verdict_name(proto::Verdict verdict);

}  // namespace repro::internal
