// compare_runs: steps, parameter digests, final metrics and the verdict.
#include "repro/compare.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "compare/compare_differences.h"
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
      // Evaluations are compared at a step both runs reached: an interrupted run's last
      // evaluation and a finished run's final one are of other weights.
      if (ea.split() != eb.split() || ea.step() != eb.step()) continue;
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

// The series a run recorded, in record order: the header's names, else those of its first step
// (a header not yet rewritten), else the one loss.
std::vector<std::string> series_of(const RunData& run) {
  if (run.header.series_size() > 0) return {run.header.series().begin(), run.header.series().end()};
  if (!run.steps.empty() && run.steps.front().values_size() > 0) {
    std::vector<std::string> names;
    for (const auto& v : run.steps.front().values()) names.push_back(v.name());
    return names;
  }
  return {"loss"};
}

// One series both runs recorded: its name and its index in each run's step values (-1: the loss).
struct CommonSeries {
  std::string name;
  int a = -1, b = -1;
};

std::vector<CommonSeries> common_series(const RunData& a, const RunData& b) {
  const auto na = series_of(a), nb = series_of(b);
  // A run that recorded one loss holds it in the loss field, not in named values.
  const auto named = [](const RunData& run) {
    return run.header.series_size() > 0 || (!run.steps.empty() && run.steps.front().values_size() > 0);
  };
  const bool named_a = named(a), named_b = named(b);
  std::vector<CommonSeries> common;
  for (std::size_t i = 0; i < na.size(); ++i) {
    const auto it = std::find(nb.begin(), nb.end(), na[i]);
    if (it == nb.end()) continue;
    common.push_back({na[i], named_a ? static_cast<int>(i) : -1, named_b ? static_cast<int>(it - nb.begin()) : -1});
  }
  // Runs with no series in common still share their primary series, the loss.
  if (common.empty()) common.push_back({"loss", -1, -1});
  return common;
}

ExactValue series_value(const proto::StepRecord& step, int index) {
  if (index < 0) return loss_of(step);
  if (index >= step.values_size()) return ExactValue();
  return internal::value_of(step.values(index));
}

// The first model of `a` (in watch order) whose digest in `b` differs; "" when none is named.
std::string first_divergent_model(const google::protobuf::RepeatedPtrField<proto::NamedDigest>& a,
                                  const google::protobuf::RepeatedPtrField<proto::NamedDigest>& b) {
  for (const auto& da : a) {
    for (const auto& db : b) {
      if (db.name() == da.name() && db.digest() != da.digest()) return da.name();
    }
  }
  return "";
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
  // Another build of the same code has another executable digest, and a run made outside a git
  // checkout has no commit to compare: both say only that the code may differ. A recorded
  // difference that certainly changes the numbers (a kernel choice on another machine) explains
  // more.
  const auto weak = [](const proto::Difference& d) {
    return d.field() == "code.executable_xxh3" || (d.field() == "code.git_commit" && (d.a().empty() || d.b().empty()));
  };
  bool strong = false;
  for (const auto& d : r.differences()) strong = strong || (d.affects_numerics() && !weak(d));
  for (const auto& d : r.differences()) {
    if (!d.affects_numerics() || (strong && weak(d))) continue;
    // A directory's digests say less than what changed in it.
    const bool directory =
        d.category() == "data" && d.field().size() > 6 && d.field().compare(d.field().size() - 6, 6, ".files") == 0;
    if (directory) return d.field() + ": " + d.explanation();
    // A resume's changes are one side's list: "run B was resumed at step 10 in another ...".
    if (d.field().rfind("resumes[", 0) == 0) return d.explanation();
    return d.field() + " " + d.a() + " vs " + d.b();
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
  internal::name_patched_files(a, b, r.mutable_differences());

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
  const auto series = common_series(a, b);
  for (const auto& c : series) {
    auto* sc = r.add_series();
    sc->set_name(c.name);
    sc->set_steps_compared(static_cast<int64_t>(common.size()));
  }
  bool numbers_differ = false, out_of_tolerance = false;
  // Indices into `common` of the first divergence of a series and of the parameter digests.
  std::size_t first_loss_k = common.size(), first_digest_k = common.size();
  std::size_t first_series = 0;  // the series that diverges first (index into `series`)
  for (std::size_t k = 0; k < common.size(); ++k) {
    const auto& sa = a.steps[common[k].first];
    const auto& sb = b.steps[common[k].second];
    const bool judged = sa.step() >= tolerance.from_step;
    for (std::size_t j = 0; j < series.size(); ++j) {
      const ExactValue la = series_value(sa, series[j].a), lb = series_value(sb, series[j].b);
      if (la.same_bits(lb)) continue;
      auto* sc = r.mutable_series(static_cast<int>(j));
      numbers_differ = true;
      if (!sc->has_first_divergent_step()) sc->set_first_divergent_step(sa.step());
      if (!r.has_first_divergent_step()) {
        r.set_first_divergent_step(sa.step());
        r.set_first_divergent_series(series[j].name);
        first_loss_k = k;
        first_series = j;
      }
      const double diff = abs_diff(la.value(), lb.value());
      sc->set_max_abs_diff(std::max(sc->max_abs_diff(), diff));
      sc->set_max_rel_diff(std::max(sc->max_rel_diff(), rel_diff(diff, lb.value())));
      if (judged && !within(diff, lb.value(), tolerance) && !sc->has_first_out_of_tolerance_step()) {
        sc->set_first_out_of_tolerance_step(sa.step());
        if (!r.has_first_out_of_tolerance_step()) r.set_first_out_of_tolerance_step(sa.step());
        out_of_tolerance = true;
      }
    }
    if (!sa.param_digest().empty() && !sb.param_digest().empty() && sa.param_digest() != sb.param_digest() &&
        !r.has_first_param_digest_divergent_step()) {
      r.set_first_param_digest_divergent_step(sa.step());
      r.set_first_param_digest_divergent_model(first_divergent_model(sa.model_digests(), sb.model_digests()));
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
    if (!r.has_first_param_digest_divergent_step()) {
      r.set_first_param_digest_divergent_step(last_step);
      r.set_first_param_digest_divergent_model(
          first_divergent_model(a.header.final_model_digests(), b.header.final_model_digests()));
    }
    if (zero_tolerance && last_step >= tolerance.from_step) out_of_tolerance = true;
  }
  // The report's loss numbers are the primary series' (the first both runs recorded).
  r.set_max_abs_loss_diff(r.series(0).max_abs_diff());
  r.set_max_rel_loss_diff(r.series(0).max_rel_diff());

  add_metrics(a, b, tolerance, &r);
  bool metric_out = false;
  for (const auto& m : r.metrics()) {
    if (double_bits(m.a()) != double_bits(m.b())) numbers_differ = true;
    if (!m.within_tolerance()) metric_out = true;
  }

  // The window centres on the first divergence of a series (and shows that series), else on
  // the first digest divergence (showing the primary series).
  const std::size_t window_center = first_loss_k < common.size() ? first_loss_k : first_digest_k;
  if (window_center < common.size()) {
    const CommonSeries& shown = series[first_series];
    const std::size_t begin = window_center >= 3 ? window_center - 3 : 0;
    const std::size_t end = std::min(common.size(), window_center + 6);
    for (std::size_t k = begin; k < end; ++k) {
      const auto& sa = a.steps[common[k].first];
      const auto& sb = b.steps[common[k].second];
      const ExactValue la = series_value(sa, shown.a), lb = series_value(sb, shown.b);
      auto* row = r.add_steps();
      row->set_step(sa.step());
      row->set_series(shown.name);
      row->set_loss_a(la.value());
      row->set_loss_b(lb.value());
      row->set_loss_a_bits(la.bits_hex());
      row->set_loss_b_bits(lb.bits_hex());
      row->set_abs_diff(la.same_bits(lb) ? 0 : abs_diff(la.value(), lb.value()));
      row->set_param_digest_compared(!sa.param_digest().empty() && !sb.param_digest().empty());
      row->set_param_digest_equal(row->param_digest_compared() && sa.param_digest() == sb.param_digest());
    }
  }

  // A run with one series, "loss", reads as before; otherwise the summary names the series.
  const bool name_series = series.size() > 1 || series.front().name != "loss";
  const std::string which = name_series && r.has_first_divergent_step() ? " (" + r.first_divergent_series() + ")" : "";
  std::string where;
  if (!numbers_differ) {
    r.set_verdict(proto::IDENTICAL);
    where = ": " + std::to_string(common.size()) + " steps bitwise equal";
  } else if (!out_of_tolerance && !metric_out) {
    r.set_verdict(proto::WITHIN_TOLERANCE);
    if (r.has_first_divergent_step()) where = " from step " + std::to_string(r.first_divergent_step()) + which;
  } else {
    r.set_verdict(proto::DIVERGED);
    if (r.has_first_divergent_step()) {
      where = " at step " + std::to_string(r.first_divergent_step()) + which;
    } else if (r.has_first_param_digest_divergent_step()) {
      const std::string& model = r.first_param_digest_divergent_model();
      where = " at step " + std::to_string(r.first_param_digest_divergent_step()) +
              (model.empty() ? " (parameters)" : " (parameters of " + model + ")");
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
