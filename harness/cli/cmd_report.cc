// repro report: a static HTML site of runs and their comparisons (repro/html_report.h).
#include <google/protobuf/struct.pb.h>

#include <iostream>

#include "options.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/html_report.h"

namespace repro::cli {

int run_report(const Args& args) {
  const CommandSpec spec{
      "report", "repro report RUN_DIR_OR_RUNS_DIR... --out DIR [--all-pairs] [--title TEXT] [--json]",
      "Writes a self-contained static HTML site of the runs given (run directories, or runs\n"
      "directories whose runs are listed as `repro ls` does) into DIR: index.html (every run, as\n"
      "`repro ls`: id, model, status, steps, final loss and its bits, accuracy, start, seed, code\n"
      "commit; click a heading to sort, type to filter, check two runs to open their comparison),\n"
      "run-<id>.html per run (header, config, seeds, determinism, environment by topic, data, code,\n"
      "evaluations, the curve of every series, checkpoints and resumes) and compare-<a>-<b>.html\n"
      "per comparison (verdict, first divergent step, named causes, both curves and |dloss| on a\n"
      "log axis, the `repro trace` result when there is one, every header field side by side with\n"
      "an \"only differences\" toggle; open it with #only-differences to start with it on).\n"
      "Comparisons generated: the two runs when exactly two run directories are given, each rerun\n"
      "with its original, consecutive runs of the same config name, each pair `repro trace`\n"
      "reported on, and with --all-pairs every pair. Pages use no network (inline CSS, JS and SVG)\n"
      "and open from file://. Prints the counts and the index's path; with --json, an object:\n"
      "out_dir, pages (index.html first), run_ids (oldest first), comparisons (their pages)."};
  po::options_description options("options");
  options.add_options()("inputs", po::value<std::vector<std::string>>()->value_name("DIR"),
                        "run directories or runs directories")("out", po::value<std::string>()->value_name("DIR"),
                                                               "the site's directory (created when missing)")(
      "all-pairs", "a comparison page for every pair of runs")(
      "title", po::value<std::string>()->value_name("TEXT")->default_value("reprotorch report"),
      "the index page's title");
  po::positional_options_description positional;
  positional.add("inputs", -1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  if (!vm.count("inputs"))
    throw Error::usage("repro report: needs run directories or runs directories (see 'repro report --help')");
  if (!vm.count("out")) throw Error::usage("repro report: --out DIR is required");
  ReportOptions opts;
  opts.all_pairs = vm.count("all-pairs") > 0;
  opts.title = vm["title"].as<std::string>();
  const ReportSite site = write_report(vm["inputs"].as<std::vector<std::string>>(), vm["out"].as<std::string>(), opts);
  if (vm.count("json")) {
    // {"out_dir": ..., "pages": [...], "run_ids": [...], "comparisons": [...]}
    google::protobuf::Struct json;
    (*json.mutable_fields())["out_dir"].set_string_value(site.out_dir);
    auto list = [&](const char* name, const std::vector<std::string>& values) {
      auto* l = (*json.mutable_fields())[name].mutable_list_value();
      for (const auto& v : values) l->add_values()->set_string_value(v);
    };
    list("pages", site.pages);
    list("run_ids", site.run_ids);
    list("comparisons", site.comparisons);
    std::cout << to_json(json);
  } else {
    std::cout << "runs: " << site.run_ids.size() << ", comparison pages: " << site.comparisons.size() << "\n"
              << site.out_dir << "/index.html\n";
  }
  std::cout << std::flush;
  return kExitOk;
}

}  // namespace repro::cli
