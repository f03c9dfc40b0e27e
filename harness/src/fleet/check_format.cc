// The text of a check report (repro/check.h, format_check_report): verdict last, after the
// comparisons, envelope checks and errors it sums up.
#include <sstream>

#include "repro/check.h"
#include "repro/envelope.h"

namespace repro {

std::string format_check_report(const proto::CheckReport& report, bool color) {
  std::ostringstream out;
  auto prefix = [](const std::string& entry, const std::string& name) {
    return (entry.empty() ? "" : entry + ": ") + name + ": ";
  };
  for (const auto& c : report.comparisons()) {
    out << prefix(c.entry(), c.name()) << c.report().summary() << "\n";
    for (const auto& d : c.report().differences()) {
      out << "    " << (d.affects_numerics() ? "[numerics] " : "[other]    ") << d.field() << ": " << d.explanation()
          << "\n";
    }
    if (c.report().series_size() > 1) {
      out << "    series:";
      const char* sep = " ";
      for (const auto& s : c.report().series()) {
        out << sep << s.name() << " "
            << (s.has_first_divergent_step() ? "from step " + std::to_string(s.first_divergent_step())
                                             : std::string("equal"));
        sep = ", ";
      }
      out << "\n";
    }
  }
  for (const auto& e : report.envelope_checks()) out << prefix(e.entry(), e.name()) << format_envelope_check(e.check());
  for (const auto& e : report.errors()) out << "error: " << e << "\n";
  const bool passed = check_passed(report);
  const std::string verdict = passed ? "check passed" : "check FAILED";
  out << (color ? (passed ? "\033[32m" : "\033[31m") + verdict + "\033[0m" : verdict) << ": "
      << report.comparisons_size() << " comparison(s), " << report.envelope_checks_size() << " envelope check(s), "
      << report.errors_size() << " error(s)"
      << (report.report_dir().empty() ? "" : "; report in " + report.report_dir()) << "\n";
  return out.str();
}

}  // namespace repro
