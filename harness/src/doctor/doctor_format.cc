// Text form of a DoctorReport: verdict first, then one line per check, then its figures.
#include <sstream>

#include "repro/doctor.h"

namespace repro {

std::string format_doctor_check(const proto::DoctorCheck& check) {
  std::ostringstream out;
  out << (check.passed() ? "PASS " : "FAIL ") << check.name();
  if (!check.subject().empty()) out << " [" << check.subject() << "]";
  out << ": " << check.detail() << "\n";
  for (const auto& f : check.figures()) out << "       " << f.name() << " = " << f.value() << "\n";
  return out.str();
}

std::string format_doctor_report(const proto::DoctorReport& report) {
  int failed = 0;
  for (const auto& c : report.checks()) failed += c.passed() ? 0 : 1;
  std::ostringstream out;
  out << "doctor: " << report.model() << ": ";
  if (failed == 0) {
    out << "all " << report.checks_size() << " checks passed";
  } else {
    out << failed << " of " << report.checks_size() << " checks failed:";
    for (const auto& c : report.checks()) {
      if (!c.passed()) out << " " << c.name();
    }
  }
  if (report.seed() != 0) out << " (seed " << report.seed() << ")";
  out << "\n";
  for (const auto& c : report.checks()) out << format_doctor_check(c);
  return out.str();
}

}  // namespace repro
