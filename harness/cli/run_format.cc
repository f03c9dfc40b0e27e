#include "run_format.h"

#include <algorithm>

#include "util/exact.h"

namespace repro::cli {

std::string format_final_loss(const proto::RunSummary& summary) {
  if (!summary.has_final_loss()) return "-";
  // The bits say the loss's type: an f32 loss prints as the float it was.
  const auto loss = internal::ExactValue::from_bits_hex(summary.final_loss_bits());
  return loss.has_value() ? loss.text() : internal::shortest_text(summary.final_loss());
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
    const internal::ExactValue loss = internal::loss_of(run.steps.back());
    if (loss.has_value()) summary.set_final_loss(loss.value());
    summary.set_final_loss_bits(loss.bits_hex());
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
