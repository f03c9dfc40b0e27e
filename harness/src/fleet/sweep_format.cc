// Text rendering of a sweep report: statistics per metric and setting, the sensitivity table,
// the errors. JSON is the report itself (exact values); text rounds to 6 significant digits.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "repro/sweep.h"
#include "util/strings.h"

namespace repro {
namespace {

std::string g6(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return buf;
}

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text + "  " : text + std::string(width - text.size() + 2, ' ');
}

}  // namespace

std::string format_sweep(const proto::SweepReport& report) {
  std::ostringstream out;
  int runs = 0;
  for (const auto& s : report.settings()) runs += s.runs_size();
  // A program's command, as given: `repro sweep -- PROGRAM ARGS...`.
  const std::string what = report.command().empty() ? report.config() : internal::join(report.command(), " ");
  out << "sweep of " << what << ": " << report.settings_size() << " setting(s) x " << report.seeds_size()
      << " seeds = " << runs << " runs, " << report.errors_size() << " failed\n";
  out << "seeds (from master seed " << report.base_seed() << "):";
  for (auto s : report.seeds()) out << " " << s;
  out << "\n";

  std::size_t label_width = 7;
  for (const auto& s : report.settings()) label_width = std::max(label_width, s.label().size());
  std::vector<std::string> metrics;
  for (const auto& s : report.settings()) {
    for (const auto& m : s.metrics()) {
      if (std::find(metrics.begin(), metrics.end(), m.name()) == metrics.end()) metrics.push_back(m.name());
    }
  }
  const std::vector<std::string> heading = {"n", "mean", "std", "min", "max", "95% CI of the mean"};
  for (const auto& name : metrics) {
    out << "\n" << name << "\n  " << pad("setting", label_width);
    for (std::size_t i = 0; i + 1 < heading.size(); ++i) out << (i == 0 ? pad(heading[i], 3) : pad(heading[i], 12));
    out << heading.back() << "\n";
    for (const auto& s : report.settings()) {
      for (const auto& m : s.metrics()) {
        if (m.name() != name) continue;
        const auto& st = m.stats();
        out << "  " << pad(s.label(), label_width) << pad(std::to_string(st.n()), 3) << pad(g6(st.mean()), 12)
            << pad(g6(st.std()), 12) << pad(g6(st.min()), 12) << pad(g6(st.max()), 12);
        if (st.has_ci95_low()) out << "[" << g6(st.ci95_low()) << ", " << g6(st.ci95_high()) << "]";
        if (st.nonfinite() > 0) out << "  (" << st.nonfinite() << " not finite)";
        out << "\n";
      }
    }
  }
  if (report.sensitivity_size() > 0) {
    out << "\nsensitivity: effect = range of the value means; ratio = effect / seed-to-seed std\n";
    for (const auto& s : report.sensitivity()) {
      out << "  " << s.field() << " -> " << s.metric() << ": effect " << g6(s.effect()) << ", seed std "
          << g6(s.seed_std()) << ", ratio " << (s.has_ratio() ? g6(s.ratio()) : "-") << "   (";
      for (int i = 0; i < s.values_size(); ++i) {
        out << (i ? ", " : "") << s.values(i).value() << ": " << g6(s.values(i).mean());
      }
      out << ")\n";
    }
  }
  for (const auto& e : report.errors()) out << "error: " << e << "\n";
  return out.str();
}

}  // namespace repro
