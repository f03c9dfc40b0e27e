// repro/html_report.h: gathers the runs, chooses the comparisons, writes the pages.
#include "repro/html_report.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "report/site.h"
#include "repro/compare.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/trace.h"
#include "util/fileutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using internal::SiteComparison;
using internal::SiteRun;

// A run id as a file name: letters, digits, '.', '_' and '-' kept, anything else '_'.
std::string file_safe(const std::string& id) {
  std::string out;
  for (char c : id) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '_';
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

// What kind of file `path` is, without opening it (a FIFO or device is never opened).
enum class Kind { kMissing, kDirectory, kFile, kOther };
Kind kind_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Kind::kMissing;
  if (S_ISDIR(st.st_mode)) return Kind::kDirectory;
  return S_ISREG(st.st_mode) ? Kind::kFile : Kind::kOther;
}

bool is_run_dir(const std::string& dir) {
  struct stat st {};
  return ::stat((fs::path(dir) / "record.pb").c_str(), &st) == 0;
}

std::string canonical(const std::string& dir) {
  std::error_code ec;
  const auto p = fs::weakly_canonical(fs::absolute(dir), ec);
  return ec ? dir : p.string();
}

// The trace report `repro trace A B` left for the pair, in either order.
std::optional<proto::TraceReport> trace_of(const SiteRun& a, const SiteRun& b) {
  for (const auto& [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    const std::string path = trace_report_path(from->data.dir, to->data.header.run_id());
    if (kind_of(path) != Kind::kFile) continue;
    proto::TraceReport t;
    try {
      if (t.ParseFromString(internal::read_whole_file(path, "trace report"))) {
        // Reported the other way round: the page reads A as the first run.
        if (from != &a) {
          std::swap(*t.mutable_op_a(), *t.mutable_op_b());
          std::swap(*t.mutable_trace_a(), *t.mutable_trace_b());
          std::swap(*t.mutable_run_a(), *t.mutable_run_b());
        }
        return t;
      }
      spdlog::warn("{}: not a trace report; left out of the comparison page", path);
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());
    }
  }
  return std::nullopt;
}

}  // namespace

ReportSite write_report(const std::vector<std::string>& inputs, const std::string& out_dir,
                        const ReportOptions& options) {
  if (inputs.empty()) throw Error::usage("report: no run directories or runs directories given");
  if (out_dir.empty()) throw Error::usage("report: no output directory given");
  const Kind out_kind = kind_of(out_dir);
  if (out_kind != Kind::kMissing && out_kind != Kind::kDirectory)
    throw Error::input(out_dir + ": exists and is not a directory");

  // Run directories in the order given (a runs directory: its runs, oldest first), each once.
  std::vector<std::string> dirs;
  std::vector<bool> explicit_dir;
  auto add_dir = [&](const std::string& dir, bool given) {
    dirs.push_back(dir);
    explicit_dir.push_back(given);
  };
  for (const auto& input : inputs) {
    const Kind k = kind_of(input);
    if (k == Kind::kMissing) throw Error::input(input + ": no such run directory or runs directory");
    if (k != Kind::kDirectory)
      throw Error::input(input + ": not a directory (expected a run directory or runs directory)");
    if (is_run_dir(input)) {
      add_dir(input, true);
    } else {
      for (const auto& d : list_runs(input)) add_dir(d, false);
    }
  }
  for (const auto& [a, b] : options.pairs) {
    for (const auto& d : {a, b}) {
      if (kind_of(d) != Kind::kDirectory || !is_run_dir(d))
        throw Error::input(d + ": not a run directory (no record.pb)");
      add_dir(d, true);
    }
  }

  std::vector<SiteRun> runs;
  std::map<std::string, std::size_t> by_path;  // canonical directory -> index in runs
  runs.reserve(dirs.size());
  std::set<std::string> pages;
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    const std::string key = canonical(dirs[i]);
    if (by_path.count(key)) continue;
    SiteRun run;
    try {
      run.data = read_run(dirs[i]);
    } catch (const Error& e) {
      if (explicit_dir[i]) throw;
      spdlog::warn("skipping {}", e.what());
      continue;
    }
    run.id = run.data.header.run_id().empty() ? fs::path(dirs[i]).filename().string() : run.data.header.run_id();
    std::string page = "run-" + file_safe(run.id) + ".html";
    for (int n = 2; pages.count(page); ++n) page = "run-" + file_safe(run.id) + "-" + std::to_string(n) + ".html";
    pages.insert(page);
    run.page = page;
    by_path[key] = runs.size();
    runs.push_back(std::move(run));
  }
  // Oldest first, as `repro ls`.
  std::vector<std::size_t> order(runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return runs[x].data.header.started_at() < runs[y].data.header.started_at();
  });
  {
    std::vector<SiteRun> sorted;
    std::vector<std::size_t> position(runs.size());
    for (std::size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
    for (auto i : order) sorted.push_back(std::move(runs[i]));
    runs = std::move(sorted);
    for (auto& entry : by_path) entry.second = position[entry.second];
  }

  // The pairs to compare, each once (in either order), A the older run unless asked otherwise.
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  std::set<std::pair<std::size_t, std::size_t>> seen;
  auto want = [&](std::size_t a, std::size_t b) {
    if (a == b || seen.count({a, b}) || seen.count({b, a})) return;
    seen.insert({a, b});
    pairs.emplace_back(a, b);
  };
  for (const auto& [a, b] : options.pairs) want(by_path.at(canonical(a)), by_path.at(canonical(b)));
  // Two run directories given: the comparison asked for.
  if (inputs.size() == 2 && is_run_dir(inputs[0]) && is_run_dir(inputs[1])) {
    want(by_path.at(canonical(inputs[0])), by_path.at(canonical(inputs[1])));
  }
  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < runs.size(); ++i) by_id.emplace(runs[i].id, i);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto it = by_id.find(runs[i].data.header.rerun_of());
    if (it != by_id.end()) want(it->second, i);
  }
  std::map<std::string, std::size_t> last_of_config;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string& name = runs[i].data.header.config().name();
    if (name.empty()) continue;
    const auto it = last_of_config.find(name);
    if (it != last_of_config.end()) want(it->second, i);
    last_of_config[name] = i;
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    for (std::size_t j = 0; j < runs.size(); ++j) {
      if (i == j) continue;
      if (kind_of(trace_report_path(runs[i].data.dir, runs[j].data.header.run_id())) == Kind::kFile) want(i, j);
    }
  }
  if (options.all_pairs) {
    for (std::size_t i = 0; i < runs.size(); ++i)
      for (std::size_t j = i + 1; j < runs.size(); ++j) want(i, j);
  }

  std::vector<SiteComparison> comparisons;
  for (const auto& [a, b] : pairs) {
    SiteComparison c;
    c.a = &runs[a];
    c.b = &runs[b];
    c.report = compare_runs(runs[a].data, runs[b].data, tolerance_of(runs[a].data.header.config()));
    c.trace = trace_of(runs[a], runs[b]);
    std::string page = "compare-" + file_safe(runs[a].id) + "-" + file_safe(runs[b].id) + ".html";
    for (int n = 2; pages.count(page); ++n) {
      page = "compare-" + file_safe(runs[a].id) + "-" + file_safe(runs[b].id) + "-" + std::to_string(n) + ".html";
    }
    pages.insert(page);
    c.page = page;
    comparisons.push_back(std::move(c));
  }

  // Every page is rendered before the first is written: a failure leaves no half-made site.
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back("index.html", internal::index_page(options.title, runs, comparisons));
  for (const auto& r : runs) files.emplace_back(r.page, internal::run_page(r, comparisons));
  for (const auto& c : comparisons) files.emplace_back(c.page, internal::compare_page(c));

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw Error::input(out_dir + ": cannot create the report directory: " + ec.message());
  ReportSite site;
  site.out_dir = out_dir;
  for (const auto& [name, html] : files) {
    internal::write_file_atomic((fs::path(out_dir) / name).string(), html);
    site.pages.push_back(name);
  }
  for (const auto& r : runs) site.run_ids.push_back(r.id);
  for (const auto& c : comparisons) site.comparisons.push_back(c.page);
  return site;
}

}  // namespace repro
