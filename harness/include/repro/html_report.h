// repro/html_report.h: a static HTML report of runs (`repro report`), a folder a person opens
// in a browser from file:// — no server, no network, nothing to install.
//
//   repro::ReportSite site = repro::write_report({"runs"}, "site", {});
//   // open site/index.html
//
// The site: index.html (every run, as `repro ls` lists them, sortable and filterable; two runs
// picked there open their comparison page when it was generated), run-<id>.html per run
// (header, resolved config, seeds, determinism applied, environment by topic, data
// fingerprint, code identity, evaluations, a curve of every recorded series, checkpoints and
// resumes) and compare-<a>-<b>.html per comparison (repro/compare.h: verdict, first divergent
// step, named causes first, every header field side by side with an "only differences" toggle
// — also applied on load when the address ends in #only-differences — both curves and
// |difference| on a log axis with the first-divergence marker, and the trace report when
// `repro trace` left one for the pair). Pages are self-contained (inline CSS, JS and SVG; a
// Content-Security-Policy forbids every request), every recorded string is HTML-escaped, and
// curves are drawn from at most ~2,000 points per line (min and max per pixel column) while the
// tables keep exact values with their bits.
//
// Which comparisons are generated (a static site cannot compute one on demand): the two runs
// when the inputs are exactly two run directories, each rerun with
// the run it reran (header rerun_of), consecutive runs (oldest first) of the same config name,
// every pair that `repro trace` reported on (<run A>/traces/report-<run id B>.pb), the pairs of
// ReportOptions::pairs, and with ReportOptions::all_pairs every pair.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace repro {

struct ReportOptions {
  // Comparisons to generate besides the automatic ones, as (run A dir, run B dir); each run is
  // added to the site when it is not among the inputs. Default: none.
  std::vector<std::pair<std::string, std::string>> pairs;
  // Generate a comparison page for every pair of runs (n·(n-1)/2 pages). Default: off.
  bool all_pairs = false;
  // The index page's title. Default: "reprotorch report".
  std::string title = "reprotorch report";
};

// What was written, file names relative to the output directory.
struct ReportSite {
  std::string out_dir;
  std::vector<std::string> pages;        // index.html first, then run pages, then comparisons
  std::vector<std::string> run_ids;      // in index order (oldest first)
  std::vector<std::string> comparisons;  // compare-*.html, in generation order
};

// Writes the site for `inputs` (each a run directory, holding record.pb, or a runs directory
// whose run directories are listed as `repro ls` does; an unreadable run in a runs directory is
// skipped with a warning) into `out_dir`, created when missing; each page is written atomically
// and pages of earlier reports with other names are left alone. Throws Error (usage) for no
// inputs, Error (input) naming the path for an input that does not exist, is not a directory,
// or is a run directory that cannot be read (repro/record.h, read_run), or for an `out_dir`
// that exists and is not a directory; Error (internal) when a page cannot be written.
ReportSite write_report(const std::vector<std::string>& inputs, const std::string& out_dir,
                        const ReportOptions& options = {});

}  // namespace repro
