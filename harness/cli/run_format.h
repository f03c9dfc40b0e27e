// Formatting shared by `repro show` and `repro ls`: exact loss text and the JSON views.
#pragma once

#include <string>
#include <vector>

#include "proto/run_record.pb.h"
#include "repro/record.h"

namespace repro::cli {

// The shortest decimal text that reads back to the same value ("0.2871", "nan", "-0");
// "-" when the step has no loss.
std::string format_loss(const proto::StepRecord& step);
std::string format_double(double value);
// The loss's IEEE-754 bits in hex: "0x3e9300a1" (f32) or 16 digits (f64); "" without a loss.
std::string loss_bits_hex(const proto::StepRecord& step);

// A summary's final loss as format_loss prints it (f32 losses as floats); "-" when absent.
std::string format_final_loss(const proto::RunSummary& summary);

// The run as `show --json` prints it, with every step.
proto::RunView make_run_view(const RunData& run);
// The run as one line of `ls`.
proto::RunSummary make_run_summary(const RunData& run);

// Rows of cells, left-aligned in columns two spaces apart; the first row is the heading.
std::string format_columns(const std::vector<std::vector<std::string>>& rows);

}  // namespace repro::cli
