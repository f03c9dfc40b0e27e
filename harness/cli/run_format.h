// Formatting shared by `repro show` and `repro ls`: the final loss, the JSON views, columns.
#pragma once

#include <string>
#include <vector>

#include "proto/run_record.pb.h"
#include "repro/record.h"

namespace repro::cli {

// Losses and numbers are printed exact, through util/exact.h.

// A summary's final loss as its shortest text in the type it was recorded in (f32 losses as
// floats, "0.2871"); "-" when absent.
std::string format_final_loss(const proto::RunSummary& summary);

// The run as `show --json` prints it, with every step.
proto::RunView make_run_view(const RunData& run);
// The run as one line of `ls`.
proto::RunSummary make_run_summary(const RunData& run);

// Rows of cells, left-aligned in columns two spaces apart; the first row is the heading.
std::string format_columns(const std::vector<std::vector<std::string>>& rows);

}  // namespace repro::cli
