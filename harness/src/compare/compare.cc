// compare_runs: steps, parameter digests, final metrics and the verdict.
#include "repro/compare.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "util/exact.h"

namespace repro {
namespace {

using internal::double_bits;
using internal::ExactValue;
using internal::loss_of;

// |a - b|, infinite when exactly one is NaN or they are infinities that differ.
double abs_diff(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : HUGE_VAL;
  const double d = std::fabs(a - b);
  return std::isnan(d) ? HUGE_VAL : d;
}

double rel_diff(double diff, double b) {
  if (diff == 0) return 0;
  return std::fabs(b) > 0 ? diff / std::fabs(b) : HUGE_VAL;
}

bool within(double diff, double b, const Tolerance& t) { return diff <= t.atol + t.rtol * std::fabs(b); }

// Indices of `steps` ordered by step number (records are written in order; sorting is a fallback).
std::vector<std::size_t> order_of(const std::vector<proto::StepRecord>& steps) {
  std::vector<std::size_t> order(steps.size());
  std::iota(order.begin(), order.end(), 0);
  const auto by_step = [&steps](std::size_t x, std::size_t y) { return steps[x].step() < steps[y].step(); };
  if (!std::is_sorted(order.begin(), order.end(), by_step)) std::stable_sort(order.begin(), order.end(), by_step);
  return order;
}

// Pairs of indices (into a.steps, b.steps) of the steps both runs recorded, by step number.
std::vector<std::pair<std::size_t, std::size_t>> common_steps(const RunData& a, const RunData& b) {
  const auto oa = order_of(a.steps), ob = order_of(b.steps);
  std::vector<std::pair<std::size_t, std::size_t>> common;
  common.reserve(std::min(oa.size(), ob.size()));
  std::size_t i = 0, j = 0;
  while (i < oa.size() && j < ob.size()) {
    const auto sa = a.steps[oa[i]].step(), sb = b.steps[ob[j]].step();
    if (sa < sb) {
      ++i;
    } else if (sb < sa) {
      ++j;
    } else {
      common.emplace_back(oa[i++], ob[j++]);
    }
  }
  return common;
}

std::string stopped_early_text(const RunData& a, const RunData& b, const proto::ComparisonReport& r, int64_t first,
                               int64_t last) {
  const auto describe = [&](const char* name, const RunData& run, std::size_t other_steps) {
    std::string text = std::string("run ") + name + " stopped after " + std::to_string(run.steps.size()) + " of " +
                       std::to_string(other_steps) + " steps";
    if (run.status != proto::FINISHED) text += " (" + status_name(run.status) + ")";
    return text;
  };
  std::string text;
  if (a.steps.size() < b.steps.size()) {
    text = describe("A", a, b.steps.size());
  } else if (b.steps.size() < a.steps.size()) {
    text = describe("B", b, a.steps.size());
  } else {
    const bool a_done = a.status == proto::FINISHED, b_done = b.status == proto::FINISHED;
    if (a_done && b_done) return "";
    if (!a_done && !b_done) {
      text = "neither run finished (A " + status_name(a.status) + ", B " + status_name(b.status) + ")";
    } else {
      const RunData& run = a_done ? b : a;
      text = std::string("run ") + (a_done ? "B" : "A") + " did not finish (" + status_name(run.status) + ")";
    }
  }
  if (r.steps_compared() == 0) return text + "; no common steps";
  return text + "; compared steps " + std::to_string(first) + ".." + std::to_string(last);
}

void add_metrics(const RunData& a, const RunData& b, const Tolerance& t, proto::ComparisonReport* r) {
  for (const auto& ea : a.header.final_evals()) {
    for (const auto& eb : b.header.final_evals()) {
      if (ea.split() != eb.split()) continue;
      std::vector<std::string> names;
      for (const auto& [name, value] : ea.metrics()) {
        if (eb.metrics().count(name)) names.push_back(name);
      }
      std::sort(names.begin(), names.end());
      for (const auto& name : names) {
        const double va = ea.metrics().at(name), vb = eb.metrics().at(name);
        auto* m = r->add_metrics();
        m->set_split(ea.split());
        m->set_metric(name);
        m->set_step(ea.step());
        m->set_a(va);
        m->set_b(vb);
        const bool same = double_bits(va) == double_bits(vb);
        const double diff = same ? 0 : abs_diff(va, vb);
        m->set_abs_diff(diff);
        m->set_rel_diff(rel_diff(diff, vb));
        m->set_within_tolerance(same || within(diff, vb, t));
      }
      break;
    }
  }
}

const char* verdict_word(proto::Verdict v) {
  switch (v) {
    case proto::IDENTICAL:
      return "identical";
    case proto::WITHIN_TOLERANCE:
      return "within tolerance";
    case proto::DIVERGED:
      return "diverged";
    case proto::INCOMPARABLE:
      return "incomparable";
    default:
      return "unspecified";
  }
}

std::string first_cause(const proto::ComparisonReport& r) {
  for (const auto& d : r.differences()) {
    if (!d.affects_numerics()) continue;
    // A directory's digests say less than what changed in it.
    const bool directory =
        d.category() == "data" && d.field().size() > 6 && d.field().compare(d.field().size() - 6, 6, ".files") == 0;
    return directory ? d.field() + ": " + d.explanation() : d.field() + " " + d.a() + " vs " + d.b();
  }
  return "";
}

}  // namespace

Tolerance tolerance_of(const proto::RunConfig& config) {
  Tolerance t;
  t.rtol = config.check().rtol();
  t.atol = config.check().atol();
  t.from_step = config.check().from_step();
  return t;
}

proto::ComparisonReport compare_runs(const RunData& a, const RunData& b, const Tolerance& tolerance) {
  proto::ComparisonReport r;
  r.set_schema_version(kComparisonReportSchemaVersion);
  r.set_run_a(a.dir);
  r.set_run_b(b.dir);
  r.set_run_id_a(a.header.run_id());
  r.set_run_id_b(b.header.run_id());
  r.mutable_tolerance()->set_rtol(tolerance.rtol);
  r.mutable_tolerance()->set_atol(tolerance.atol);
  r.mutable_tolerance()->set_from_step(tolerance.from_step);
  r.set_steps_a(static_cast<int64_t>(a.steps.size()));
  r.set_steps_b(static_cast<int64_t>(b.steps.size()));
  for (auto& d : header_differences(a.header, b.header, a.dir, b.dir)) *r.add_differences() = std::move(d);

  const auto common = common_steps(a, b);
  r.set_steps_compared(static_cast<int64_t>(common.size()));
  const int64_t first_step = common.empty() ? 0 : a.steps[common.front().first].step();
  const int64_t last_step = common.empty() ? 0 : a.steps[common.back().first].step();
  r.set_stopped_early(stopped_early_text(a, b, r, first_step, last_step));
  if (common.empty()) {
    r.set_verdict(proto::INCOMPARABLE);
    r.set_summary(std::string("incomparable: no common steps (run A has ") + std::to_string(a.steps.size()) +
                  ", run B has " + std::to_string(b.steps.size()) + ")");
    return r;
  }

  const bool zero_tolerance = tolerance.rtol == 0 && tolerance.atol == 0;
  bool numbers_differ = false, out_of_tolerance = false;
  // Indices into `common` of the first loss and the first parameter digest divergence.
  std::size_t first_loss_k = common.size(), first_digest_k = common.size();
  double max_abs = 0, max_rel = 0;
  for (std::size_t k = 0; k < common.size(); ++k) {
    const auto& sa = a.steps[common[k].first];
    const auto& sb = b.steps[common[k].second];
    const ExactValue la = loss_of(sa), lb = loss_of(sb);
    const bool judged = sa.step() >= tolerance.from_step;
    if (!la.same_bits(lb)) {
      numbers_differ = true;
      if (!r.has_first_divergent_step()) {
        r.set_first_divergent_step(sa.step());
        first_loss_k = k;
      }
      const double diff = abs_diff(la.value(), lb.value());
      max_abs = std::max(max_abs, diff);
      max_rel = std::max(max_rel, rel_diff(diff, lb.value()));
      if (judged && !within(diff, lb.value(), tolerance) && !r.has_first_out_of_tolerance_step()) {
        r.set_first_out_of_tolerance_step(sa.step());
        out_of_tolerance = true;
      }
    }
    if (!sa.param_digest().empty() && !sb.param_digest().empty() && sa.param_digest() != sb.param_digest() &&
        !r.has_first_param_digest_divergent_step()) {
      r.set_first_param_digest_divergent_step(sa.step());
      numbers_differ = true;
      first_digest_k = k;
      if (judged && zero_tolerance) out_of_tolerance = true;
    }
  }
  // The final digest is taken after the last step: compare it when both runs did every step.
  const bool both_complete = a.status == proto::FINISHED && b.status == proto::FINISHED &&
                             a.steps.size() == b.steps.size() && common.size() == a.steps.size();
  const auto& fa = a.header.final_param_digest();
  const auto& fb = b.header.final_param_digest();
  if (both_complete && !fa.empty() && !fb.empty() && fa != fb) {
    numbers_differ = true;
    if (!r.has_first_param_digest_divergent_step()) r.set_first_param_digest_divergent_step(last_step);
    if (zero_tolerance && last_step >= tolerance.from_step) out_of_tolerance = true;
  }
  r.set_max_abs_loss_diff(max_abs);
  r.set_max_rel_loss_diff(max_rel);

  add_metrics(a, b, tolerance, &r);
  bool metric_out = false;
  for (const auto& m : r.metrics()) {
    if (double_bits(m.a()) != double_bits(m.b())) numbers_differ = true;
    if (!m.within_tolerance()) metric_out = true;
  }

  // The window centres on the first loss divergence, else on the first digest divergence.
  const std::size_t window_center = first_loss_k < common.size() ? first_loss_k : first_digest_k;
  if (window_center < common.size()) {
    const std::size_t begin = window_center >= 3 ? window_center - 3 : 0;
    const std::size_t end = std::min(common.size(), window_center + 6);
    for (std::size_t k = begin; k < end; ++k) {
      const auto& sa = a.steps[common[k].first];
      const auto& sb = b.steps[common[k].second];
      const ExactValue la = loss_of(sa), lb = loss_of(sb);
      auto* row = r.add_steps();
      row->set_step(sa.step());
      row->set_loss_a(la.value());
      row->set_loss_b(lb.value());
      row->set_loss_a_bits(la.bits_hex());
      row->set_loss_b_bits(lb.bits_hex());
      row->set_abs_diff(la.same_bits(lb) ? 0 : abs_diff(la.value(), lb.value()));
      row->set_param_digest_compared(!sa.param_digest().empty() && !sb.param_digest().empty());
      row->set_param_digest_equal(row->param_digest_compared() && sa.param_digest() == sb.param_digest());
    }
  }

  std::string where;
  if (!numbers_differ) {
    r.set_verdict(proto::IDENTICAL);
    where = ": " + std::to_string(common.size()) + " steps bitwise equal";
  } else if (!out_of_tolerance && !metric_out) {
    r.set_verdict(proto::WITHIN_TOLERANCE);
    if (r.has_first_divergent_step()) where = " from step " + std::to_string(r.first_divergent_step());
  } else {
    r.set_verdict(proto::DIVERGED);
    if (r.has_first_divergent_step()) {
      where = " at step " + std::to_string(r.first_divergent_step());
    } else if (r.has_first_param_digest_divergent_step()) {
      where = " at step " + std::to_string(r.first_param_digest_divergent_step()) + " (parameters)";
    } else {
      where = " in the final metrics";
    }
  }
  std::string summary = verdict_word(r.verdict()) + where;
  const std::string cause = first_cause(r);
  if (r.verdict() != proto::IDENTICAL) {
    summary += ": " + (cause.empty() ? std::string("no recorded difference explains it (nondeterminism?)") : cause);
  } else if (!cause.empty()) {
    summary += " despite " + cause;
  }
  r.set_summary(summary);
  return r;
}

int exit_code_of(const proto::ComparisonReport& report) {
  return report.verdict() == proto::IDENTICAL || report.verdict() == proto::WITHIN_TOLERANCE ? 0 : 1;
}

}  // namespace repro
