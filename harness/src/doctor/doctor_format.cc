// Text form of a DoctorReport: verdict first, then one line per check, then its figures.
#include <sstream>

#include "repro/doctor.h"

namespace repro {
namespace {

// " smoke finite", the names of the checks `pick` selects.
template <typename Pick>
std::string names_of(const proto::DoctorReport& report, Pick pick) {
  std::string out;
  for (const auto& c : report.checks()) {
    if (pick(c)) out += " " + c.name();
  }
  return out;
}

}  // namespace

std::string format_doctor_check(const proto::DoctorCheck& check) {
  std::ostringstream out;
  out << (check.passed() ? "PASS " : check.skipped() ? "SKIP " : "FAIL ") << check.name();
  if (!check.subject().empty()) out << " [" << check.subject() << "]";
  out << ": " << check.detail() << "\n";
  for (const auto& f : check.figures()) out << "       " << f.name() << " = " << f.value() << "\n";
  return out.str();
}

std::string format_doctor_report(const proto::DoctorReport& report) {
  int failed = 0, skipped = 0;
  for (const auto& c : report.checks()) {
    skipped += c.skipped() ? 1 : 0;
    failed += c.passed() || c.skipped() ? 0 : 1;
  }
  std::ostringstream out;
  out << "doctor: " << report.model() << ": ";
  if (failed == 0 && skipped == 0) {
    out << "all " << report.checks_size() << " checks passed";
  } else if (failed == 0) {
    out << (report.checks_size() - skipped) << " of " << report.checks_size() << " checks passed";
  } else {
    out << failed << " of " << report.checks_size() << " checks failed:"
        << names_of(report, [](const proto::DoctorCheck& c) { return !c.passed() && !c.skipped(); });
  }
  if (skipped > 0) {
    out << (failed == 0 ? ", " : "; ") << skipped
        << " skipped:" << names_of(report, [](const proto::DoctorCheck& c) { return c.skipped(); });
  }
  if (report.seed() != 0) out << " (seed " << report.seed() << ")";
  out << "\n";
  for (const auto& c : report.checks()) out << format_doctor_check(c);
  return out.str();
}

}  // namespace repro
