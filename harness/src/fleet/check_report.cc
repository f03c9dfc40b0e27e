#include "fleet/check_report.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "repro/compare.h"
#include "repro/envelope.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/html_report.h"
#include "util/child.h"
#include "util/fileutil.h"
#include "util/process.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

namespace fs = std::filesystem;

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  return out;
}

bool failed(const proto::ComparisonReport& r) { return exit_code_of(r) != 0; }

bool has_record(const std::string& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(fs::path(dir) / "record.pb", ec);
}

// <report_dir>/site/: the HTML report of every run and every comparison (repro/html_report.h).
// Returns what summary.md says about it; a site that cannot be written is logged, never fatal.
std::string write_check_site(const proto::CheckReport& result, const fs::path& dir) {
  std::vector<std::string> runs;
  for (const auto& r : result.runs())
    if (has_record(r.dir())) runs.push_back(r.dir());
  ReportOptions options;
  options.title = std::string("repro check: ") + (result.passed() ? "passed" : "FAILED");
  for (const auto& c : result.comparisons()) {
    if (has_record(c.report().run_a()) && has_record(c.report().run_b()))
      options.pairs.emplace_back(c.report().run_a(), c.report().run_b());
  }
  if (runs.empty() && options.pairs.empty()) return "none (no run recorded)";
  try {
    write_report(runs.empty() ? std::vector<std::string>{options.pairs[0].first} : runs, (dir / "site").string(),
                 options);
    return "[site/index.html](site/index.html)";
  } catch (const Error& e) {
    spdlog::error("cannot write the HTML report: {}", e.what());
    return std::string("failed: ") + e.what();
  }
}

std::string differences_text(const proto::ComparisonReport& r) {
  std::ostringstream out;
  for (const auto& d : r.differences()) {
    out << (d.affects_numerics() ? "[numerics] " : "[other]    ") << d.field() << ": " << d.a() << " vs " << d.b()
        << " — " << d.explanation() << "\n";
  }
  // Runs with several series (a GAN's d_loss and g_loss): where each one first diverged.
  if (r.series_size() > 1) {
    for (const auto& s : r.series()) {
      out << "[series]   " << s.name() << ": "
          << (s.has_first_divergent_step() ? "first divergent step " + std::to_string(s.first_divergent_step())
                                           : std::string("bitwise equal"))
          << " over " << s.steps_compared() << " steps\n";
    }
  }
  if (!r.first_param_digest_divergent_model().empty()) {
    out << "[model]    " << r.first_param_digest_divergent_model() << ": parameters first differ at step "
        << r.first_param_digest_divergent_step() << "\n";
  }
  return out.str();
}

// tools/plot_divergence beside the source tree the binary was built in, or installed beside it.
std::string find_plot_tool() {
  fs::path exe;
  try {
    exe = internal::self_executable();
  } catch (const Error&) {
    return "";
  }
  for (const fs::path& candidate :
       {exe.parent_path() / "../tools/plot_divergence", exe.parent_path() / "../../tools/plot_divergence",
        exe.parent_path() / "../share/reprotorch/tools/plot_divergence"}) {
    if (fs::exists(candidate)) return fs::canonical(candidate).string();
  }
  return "";
}

}  // namespace

std::string junit_xml(const proto::CheckReport& result) {
  std::map<std::string, std::vector<const proto::CheckComparison*>> by_entry;
  std::map<std::string, std::vector<const proto::CheckEnvelope*>> envelopes_by_entry;
  for (const auto& c : result.comparisons()) by_entry[c.entry()].push_back(&c);
  for (const auto& e : result.envelope_checks()) {
    envelopes_by_entry[e.entry()].push_back(&e);
    by_entry[e.entry()];  // an entry with envelope checks only still gets its testsuite
  }
  int failures = 0;
  for (const auto& c : result.comparisons()) failures += failed(c.report()) ? 1 : 0;
  for (const auto& e : result.envelope_checks()) failures += e.check().inside() ? 0 : 1;
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites name=\"repro check\" tests=\""
    << result.comparisons_size() + result.envelope_checks_size() + result.errors_size() << "\" failures=\"" << failures
    << "\" errors=\"" << result.errors_size() << "\">\n";
  for (const auto& [entry, comparisons] : by_entry) {
    const auto& envelope_checks = envelopes_by_entry[entry];
    int entry_failures = 0;
    for (const auto* c : comparisons) entry_failures += failed(c->report()) ? 1 : 0;
    for (const auto* e : envelope_checks) entry_failures += e->check().inside() ? 0 : 1;
    x << "  <testsuite name=\"" << escape_markup(entry) << "\" tests=\"" << comparisons.size() + envelope_checks.size()
      << "\" failures=\"" << entry_failures << "\">\n";
    for (const auto* c : comparisons) {
      x << "    <testcase classname=\"repro.check." << escape_markup(entry) << "\" name=\"" << escape_markup(c->name())
        << "\">\n";
      if (failed(c->report())) {
        x << "      <failure message=\"" << escape_markup(c->report().summary()) << "\">"
          << escape_markup(c->report().summary() + "\n" + differences_text(c->report())) << "</failure>\n";
      } else if (c->report().differences_size() > 0) {
        x << "      <system-out>" << escape_markup(c->report().summary() + "\n" + differences_text(c->report()))
          << "</system-out>\n";
      }
      x << "    </testcase>\n";
    }
    for (const auto* e : envelope_checks) {
      const std::string text = format_envelope_check(e->check());
      x << "    <testcase classname=\"repro.check." << escape_markup(entry) << "\" name=\"" << escape_markup(e->name())
        << "\">\n";
      if (!e->check().inside()) {
        x << "      <failure message=\"" << escape_markup(text.substr(0, text.find('\n'))) << "\">"
          << escape_markup(text) << "</failure>\n";
      } else if (e->check().notes_size() > 0) {
        x << "      <system-out>" << escape_markup(text) << "</system-out>\n";
      }
      x << "    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  if (result.errors_size() > 0) {
    x << "  <testsuite name=\"errors\" tests=\"" << result.errors_size() << "\" errors=\"" << result.errors_size()
      << "\">\n";
    for (const auto& e : result.errors()) {
      x << "    <testcase classname=\"repro.check\" name=\"" << escape_markup(e.substr(0, e.find(':')))
        << "\">\n      <error message=\"" << escape_markup(e) << "\"/>\n    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  return x.str();
}

void write_check_report(const proto::CheckReport& result, const CheckOptions& options) {
  const fs::path dir = options.report_dir;
  const std::string plot_tool = find_plot_tool();
  std::ostringstream md;
  md << "# repro check: " << (result.passed() ? "passed" : "FAILED") << "\n\n"
     << "| entry | comparison | verdict | summary | plot |\n| --- | --- | --- | --- | --- |\n";
  for (const auto& c : result.comparisons()) {
    const fs::path base = dir / c.entry() / slug(c.name());
    internal::make_directories(base.parent_path().string());
    internal::write_file_atomic(base.string() + ".json", to_json(c.report()));
    std::string plot = "-";
    if (failed(c.report()) && c.report().steps_compared() > 0) {
      if (plot_tool.empty() || !fs::exists("/usr/bin/python3")) {
        plot = "skipped: tools/plot_divergence or /usr/bin/python3 not found";
      } else {
        ChildSpec child{{"/usr/bin/python3", plot_tool, "--report", base.string() + ".json", "--out", base.string()},
                        current_environment(),
                        "",
                        base.string() + ".plot.log",
                        base.string() + ".plot.log"};
        const int code = wait_child(spawn(child));
        plot = code == 0 ? "[png](" + fs::relative(base, dir).string() + ".png), [svg](" +
                               fs::relative(base, dir).string() + ".svg)"
                         : "failed (see " + fs::relative(base, dir).string() + ".plot.log)";
      }
    }
    md << "| " << c.entry() << " | " << c.name() << " | " << proto::Verdict_Name(c.report().verdict()) << " | "
       << c.report().summary() << " | " << plot << " |\n";
  }
  for (const auto& e : result.envelope_checks()) {
    const std::string text = format_envelope_check(e.check());
    md << "| " << e.entry() << " | " << e.name() << " | " << (e.check().inside() ? "INSIDE" : "OUTSIDE") << " | "
       << text.substr(0, text.find('\n')) << " | - |\n";
  }
  for (const auto& e : result.errors()) md << "\nerror: " << e << "\n";
  md << "\nHTML report: " << write_check_site(result, dir) << "\n";
  internal::write_file_atomic((dir / "summary.md").string(), md.str());
  internal::write_file_atomic((dir / "check.json").string(), to_json(result));
  if (!options.junit_path.empty()) {
    internal::write_file_atomic(options.junit_path, junit_xml(result));  // Error (io) naming the path
  }
}

}  // namespace repro::internal
