// Statistics of a sweep: Student's t quantiles, summary statistics of a list of values, a
// setting's metrics and per-step bands, and the sensitivity table (formulas in repro/sweep.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "repro/error.h"
#include "repro/sweep.h"
#include "util/exact.h"

namespace repro {
namespace {

// Continued fraction of the regularized incomplete beta function (modified Lentz's method).
double beta_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-16;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return h;
}

// I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
  return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

// P(T > t) for t >= 0.
double student_t_upper_tail(double t, double dof) { return 0.5 * incomplete_beta(dof / 2.0, 0.5, dof / (dof + t * t)); }

}  // namespace

double student_t_quantile(double p, double dof) {
  if (!(p > 0.0 && p < 1.0)) throw Error::usage("student_t_quantile: p must be in (0, 1), got " + std::to_string(p));
  if (!(dof > 0.0) || !std::isfinite(dof)) {
    throw Error::usage("student_t_quantile: degrees of freedom must be > 0, got " + std::to_string(dof));
  }
  if (p == 0.5) return 0.0;
  if (p < 0.5) return -student_t_quantile(1.0 - p, dof);
  const double tail = 1.0 - p;
  double lo = 0.0;
  double hi = 1.0;
  while (student_t_upper_tail(hi, dof) > tail) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e300) return std::numeric_limits<double>::infinity();
  }
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_upper_tail(mid, dof) > tail ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

proto::Stats describe(const std::vector<double>& values) {
  proto::Stats stats;
  std::vector<double> finite;
  for (double v : values) {
    if (std::isfinite(v)) {
      finite.push_back(v);
    } else {
      stats.set_nonfinite(stats.nonfinite() + 1);
    }
  }
  const auto n = static_cast<int>(finite.size());
  stats.set_n(n);
  if (n == 0) return stats;
  double sum = 0.0;
  for (double v : finite) sum += v;
  const double mean = sum / n;
  stats.set_mean(mean);
  stats.set_min(*std::min_element(finite.begin(), finite.end()));
  stats.set_max(*std::max_element(finite.begin(), finite.end()));
  if (n < 2) return stats;
  double squares = 0.0;
  for (double v : finite) squares += (v - mean) * (v - mean);
  const double sd = std::sqrt(squares / (n - 1));
  stats.set_std(sd);
  const double half = student_t_quantile(0.975, n - 1) * sd / std::sqrt(static_cast<double>(n));
  stats.set_ci95_low(mean - half);
  stats.set_ci95_high(mean + half);
  return stats;
}

using internal::loss_of;

std::map<std::string, double> final_metrics(const RunData& run) {
  std::map<std::string, double> metrics;
  if (!run.steps.empty()) {
    metrics["final_loss"] = loss_of(run.steps.back()).value();
    for (const auto& v : run.steps.back().values()) {
      const internal::ExactValue value = internal::value_of(v);
      if (value.has_value()) metrics["final_" + v.name()] = value.value();
    }
  }
  for (const auto& eval : run.header.final_evals()) {
    for (const auto& [metric, value] : eval.metrics()) metrics[eval.split() + "/" + metric] = value;
  }
  return metrics;
}

void summarize_setting(const std::vector<const RunData*>& runs, proto::SweepSetting* setting) {
  // Metric names: final_loss first, then the evaluation metrics by name.
  std::vector<std::string> names = {"final_loss"};
  std::map<std::string, std::vector<double>> values;
  std::map<int64_t, std::vector<double>> losses;
  // The other named series, per step, in the order first recorded.
  std::vector<std::string> series_names;
  std::map<int64_t, std::map<std::string, std::vector<double>>> series;
  if (static_cast<int>(runs.size()) != setting->runs_size()) {
    throw Error::internal("summarize_setting: " + std::to_string(runs.size()) + " runs for " +
                          std::to_string(setting->runs_size()) + " entries");
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i] == nullptr) continue;
    const RunData& run = *runs[i];
    const auto metrics = final_metrics(run);
    for (const auto& [name, value] : metrics) {
      if (name != "final_loss" && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      values[name].push_back(value);
    }
    for (const auto& step : run.steps) {
      losses[step.step()].push_back(loss_of(step).value());
      for (int v = 1; v < step.values_size(); ++v) {
        const auto& named = step.values(v);
        if (std::find(series_names.begin(), series_names.end(), named.name()) == series_names.end()) {
          series_names.push_back(named.name());
        }
        series[step.step()][named.name()].push_back(internal::value_of(named).value());
      }
    }
    auto* entry = setting->mutable_runs(static_cast<int>(i));
    entry->clear_metrics();
    for (const auto& [name, value] : metrics) {
      auto* m = entry->add_metrics();
      m->set_name(name);
      m->set_value(value);
    }
  }
  std::sort(names.begin() + 1, names.end());
  setting->clear_metrics();
  for (const auto& name : names) {
    if (!values.count(name)) continue;
    auto* m = setting->add_metrics();
    m->set_name(name);
    *m->mutable_stats() = describe(values[name]);
  }
  setting->clear_steps();
  for (const auto& [step, list] : losses) {
    auto* s = setting->add_steps();
    s->set_step(step);
    *s->mutable_loss() = describe(list);
    const auto at = series.find(step);
    if (at == series.end()) continue;
    for (const auto& name : series_names) {
      const auto it = at->second.find(name);
      if (it == at->second.end()) continue;
      auto* named = s->add_series();
      named->set_name(name);
      *named->mutable_stats() = describe(it->second);
    }
  }
}

std::vector<proto::Sensitivity> sensitivity(const proto::SweepReport& report) {
  std::vector<proto::Sensitivity> out;
  if (report.varied().empty() || report.settings().empty()) return out;
  std::vector<std::string> metrics;
  for (const auto& m : report.settings(0).metrics()) metrics.push_back(m.name());
  for (const auto& field : report.varied()) {
    for (const auto& metric : metrics) {
      proto::Sensitivity s;
      s.set_field(field.field());
      s.set_metric(metric);
      double variance_sum = 0.0;
      int variance_count = 0;
      std::map<std::string, std::pair<double, int>> by_value;  // sum and count of setting means
      for (const auto& setting : report.settings()) {
        const proto::Stats* stats = nullptr;
        for (const auto& m : setting.metrics()) {
          if (m.name() == metric) stats = &m.stats();
        }
        if (stats == nullptr || stats->n() == 0) continue;
        if (stats->n() >= 2) {
          variance_sum += stats->std() * stats->std();
          ++variance_count;
        }
        for (const auto& a : setting.assignments()) {
          if (a.compare(0, field.field().size() + 1, field.field() + "=") == 0) {
            auto& acc = by_value[a.substr(field.field().size() + 1)];
            acc.first += stats->mean();
            acc.second += 1;
          }
        }
      }
      double lo = std::numeric_limits<double>::infinity();
      double hi = -lo;
      for (const auto& value : field.values()) {
        const auto it = by_value.find(value);
        if (it == by_value.end()) continue;
        auto* v = s.add_values();
        v->set_value(value);
        v->set_mean(it->second.first / it->second.second);
        lo = std::min(lo, v->mean());
        hi = std::max(hi, v->mean());
      }
      if (s.values_size() == 0) continue;
      s.set_effect(hi - lo);
      s.set_seed_std(variance_count ? std::sqrt(variance_sum / variance_count) : 0.0);
      if (s.seed_std() > 0) s.set_ratio(s.effect() / s.seed_std());
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace repro
