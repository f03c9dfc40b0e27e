// format_report: a ComparisonReport as text, verdict first (like google/benchmark's compare.py).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compare/compare_differences.h"
#include "repro/compare.h"
#include "util/exact.h"

namespace repro {
namespace {

using Rows = std::vector<std::vector<std::string>>;

constexpr const char* kReset = "\033[0m";

const char* verdict_color(proto::Verdict v) {
  switch (v) {
    case proto::IDENTICAL:
      return "\033[32m";  // green
    case proto::WITHIN_TOLERANCE:
      return "\033[33m";  // yellow
    default:
      return "\033[31m";  // red
  }
}

const char* verdict_name(proto::Verdict v) {
  switch (v) {
    case proto::IDENTICAL:
      return "IDENTICAL";
    case proto::WITHIN_TOLERANCE:
      return "WITHIN TOLERANCE";
    case proto::DIVERGED:
      return "DIVERGED";
    case proto::INCOMPARABLE:
      return "INCOMPARABLE";
    default:
      return "UNSPECIFIED";
  }
}

// Rows left-aligned in columns two spaces apart, indented by two; long cells are cut.
std::string columns(const Rows& rows) {
  constexpr std::size_t kMaxCell = 48;
  std::vector<std::size_t> widths;
  Rows cut = rows;
  for (auto& row : cut) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      auto& cell = row[i];
      std::replace(cell.begin(), cell.end(), '\n', ' ');
      if (i + 1 < row.size() && cell.size() > kMaxCell) cell = cell.substr(0, kMaxCell - 3) + "...";
      widths[i] = std::max(widths[i], cell.size());
    }
  }
  std::string out;
  for (const auto& row : cut) {
    std::string line = " ";
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += " " + row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 1, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string num(double value) { return internal::shortest_text(value); }

std::string optional_step(bool has, int64_t step) { return has ? std::to_string(step) : "none"; }

std::string differences_table(const proto::ComparisonReport& r) {
  std::vector<const proto::Difference*> sorted;
  for (const auto& d : r.differences()) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const proto::Difference* x, const proto::Difference* y) {
    return x->affects_numerics() && !y->affects_numerics();
  });
  Rows rows{{"field", "a", "b", "numerics", "explanation"}};
  for (const auto* d : sorted) {
    rows.push_back({d->field(), internal::or_none(d->a()), internal::or_none(d->b()),
                    d->affects_numerics() ? "yes" : "no", d->explanation()});
  }
  return columns(rows);
}

std::string metrics_table(const proto::ComparisonReport& r) {
  Rows rows{{"split", "metric", "step", "a", "b", "|diff|", "rel", "within"}};
  for (const auto& m : r.metrics()) {
    rows.push_back({m.split(), m.metric(), std::to_string(m.step()), num(m.a()), num(m.b()), num(m.abs_diff()),
                    num(m.rel_diff()), m.within_tolerance() ? "yes" : "no"});
  }
  return columns(rows);
}

std::string series_table(const proto::ComparisonReport& r) {
  Rows rows{{"series", "steps", "first divergent", "first out of tolerance", "max |diff|", "max rel diff"}};
  for (const auto& c : r.series()) {
    rows.push_back({c.name(), std::to_string(c.steps_compared()),
                    optional_step(c.has_first_divergent_step(), c.first_divergent_step()),
                    optional_step(c.has_first_out_of_tolerance_step(), c.first_out_of_tolerance_step()),
                    num(c.max_abs_diff()), num(c.max_rel_diff())});
  }
  return columns(rows);
}

std::string steps_table(const proto::ComparisonReport& r) {
  const std::string name = r.steps(0).series().empty() ? "loss" : r.steps(0).series();
  Rows rows{{"step", name + " a", name + " b", "bits a", "bits b", "|diff|", "params equal"}};
  for (const auto& s : r.steps()) {
    // The bits say the loss's type: an f32 loss prints as the float it was.
    const std::string loss_a = internal::ExactValue::from_bits_hex(s.loss_a_bits()).text();
    const std::string loss_b = internal::ExactValue::from_bits_hex(s.loss_b_bits()).text();
    rows.push_back({std::to_string(s.step()), loss_a, loss_b, s.loss_a_bits(), s.loss_b_bits(), num(s.abs_diff()),
                    !s.param_digest_compared() ? "-"
                    : s.param_digest_equal()   ? "yes"
                                               : "no"});
  }
  return columns(rows);
}

}  // namespace

std::string format_report(const proto::ComparisonReport& r, bool color) {
  std::string out;
  const std::string verdict = verdict_name(r.verdict());
  out += color ? std::string(verdict_color(r.verdict())) + verdict + kReset : verdict;
  out += "  " + r.run_a() + " vs " + r.run_b() + "\n";
  out += r.summary() + "\n";
  if (!r.stopped_early().empty()) out += r.stopped_early() + "\n";

  if (r.differences_size() > 0) {
    out += "\ndifferences (" + std::to_string(r.differences_size()) + "):\n" + differences_table(r);
  } else {
    out += "\nno differences between the run headers\n";
  }

  const auto& t = r.tolerance();
  Rows numbers{
      {"steps compared", std::to_string(r.steps_compared()) + " (A " + std::to_string(r.steps_a()) + ", B " +
                             std::to_string(r.steps_b()) + ")"},
      {"tolerance",
       t.rtol() == 0 && t.atol() == 0 ? std::string("bitwise") : "rtol " + num(t.rtol()) + ", atol " + num(t.atol())},
      {"first divergent step", optional_step(r.has_first_divergent_step(), r.first_divergent_step())},
      {"first param digest divergence",
       optional_step(r.has_first_param_digest_divergent_step(), r.first_param_digest_divergent_step()) +
           (r.first_param_digest_divergent_model().empty() ? "" : " (" + r.first_param_digest_divergent_model() + ")")},
      {"first out of tolerance", optional_step(r.has_first_out_of_tolerance_step(), r.first_out_of_tolerance_step())},
      {"max |diff loss|", num(r.max_abs_loss_diff())},
      {"max rel diff loss", num(r.max_rel_loss_diff())},
  };
  if (r.series_size() > 1 || (!r.first_divergent_series().empty() && r.first_divergent_series() != "loss")) {
    numbers.insert(numbers.begin() + 3, {"first divergent series", internal::or_none(r.first_divergent_series())});
  }
  if (t.from_step() > 0) numbers.insert(numbers.begin() + 2, {"judged from step", std::to_string(t.from_step())});
  out += "\nnumbers:\n" + columns(numbers);
  if (r.series_size() > 1) out += "\nseries:\n" + series_table(r);
  if (r.metrics_size() > 0) out += "\nfinal metrics:\n" + metrics_table(r);
  if (r.steps_size() > 0) out += "\nsteps around the first divergence:\n" + steps_table(r);
  return out;
}

}  // namespace repro
