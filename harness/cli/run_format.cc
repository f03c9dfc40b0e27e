#include "run_format.h"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace repro::cli {
namespace {

template <typename T>
std::string shortest(T value) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, result.ptr);
}

}  // namespace

std::string format_double(double value) { return shortest(value); }

std::string format_loss(const proto::StepRecord& step) {
  switch (step.loss_case()) {
    case proto::StepRecord::kLossF32: return shortest(step.loss_f32());
    case proto::StepRecord::kLossF64: return shortest(step.loss_f64());
    default: return "-";
  }
}

std::string loss_bits_hex(const proto::StepRecord& step) {
  char buf[32];
  if (step.loss_case() == proto::StepRecord::kLossF32) {
    std::uint32_t bits;
    const float f = step.loss_f32();
    std::memcpy(&bits, &f, sizeof bits);
    std::snprintf(buf, sizeof buf, "0x%08" PRIx32, bits);
    return buf;
  }
  if (step.loss_case() == proto::StepRecord::kLossF64) {
    std::uint64_t bits;
    const double d = step.loss_f64();
    std::memcpy(&bits, &d, sizeof bits);
    std::snprintf(buf, sizeof buf, "0x%016" PRIx64, bits);
    return buf;
  }
  return "";
}

std::string format_final_loss(const proto::RunSummary& summary) {
  if (!summary.has_final_loss()) return "-";
  // "0x" + 8 digits: the loss was an f32, and converting it to double was exact.
  if (summary.final_loss_bits().size() == 10) return shortest(static_cast<float>(summary.final_loss()));
  return shortest(summary.final_loss());
}

proto::RunView make_run_view(const RunData& run) {
  proto::RunView view;
  *view.mutable_record() = run.header;
  view.set_status(status_name(run.status));
  view.set_status_reason(run.status_reason);
  view.set_steps_torn(run.steps_torn);
  view.set_steps_recorded(static_cast<std::int64_t>(run.steps.size()));
  for (const auto& s : run.steps) *view.add_steps() = s;
  for (const auto& e : run.evals) *view.add_evals() = e;
  return view;
}

proto::RunSummary make_run_summary(const RunData& run) {
  proto::RunSummary summary;
  summary.set_dir(run.dir);
  summary.set_run_id(run.header.run_id());
  summary.set_model(run.header.model().name());
  summary.set_status(status_name(run.status));
  summary.set_steps(static_cast<std::int64_t>(run.steps.size()));
  summary.set_started_at(run.header.started_at());
  if (!run.steps.empty()) {
    const auto& last = run.steps.back();
    if (last.loss_case() == proto::StepRecord::kLossF32) summary.set_final_loss(last.loss_f32());
    if (last.loss_case() == proto::StepRecord::kLossF64) summary.set_final_loss(last.loss_f64());
    summary.set_final_loss_bits(loss_bits_hex(last));
  }
  for (const auto& e : run.header.final_evals()) {
    const auto it = e.metrics().find("accuracy");
    if (e.split() == "test" && it != e.metrics().end()) summary.set_test_accuracy(it->second);
  }
  return summary;
}

std::string format_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace repro::cli
