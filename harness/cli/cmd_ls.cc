// repro ls: list the runs in a runs directory.
#include <spdlog/spdlog.h>

#include <iostream>

#include "options.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/record.h"
#include "run_format.h"
#include "util/exact.h"

namespace repro::cli {

int run_ls(const Args& args) {
  const CommandSpec spec{"ls", "repro ls [RUNS_DIR] [--json]",
                         "Lists the run directories directly under RUNS_DIR (default: runs), oldest first: id, model,\n"
                         "status (a run whose process is gone shows as interrupted), steps recorded, final loss,\n"
                         "test accuracy and start time. A run that cannot be read is skipped with a warning.\n"
                         "With --json, an array of RunSummary objects (proto/run_record.proto)."};
  po::options_description options("options");
  options.add_options()("runs-dir", po::value<std::string>()->value_name("RUNS_DIR")->default_value("runs"),
                        "the directory holding run directories");
  po::positional_options_description positional;
  positional.add("runs-dir", 1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  const std::string runs_dir = vm["runs-dir"].as<std::string>();

  std::vector<proto::RunSummary> summaries;
  for (const auto& dir : list_runs(runs_dir)) {
    try {
      summaries.push_back(make_run_summary(read_run(dir)));
    } catch (const Error& e) {
      spdlog::warn("skipping {}", e.what());
    }
  }

  std::string out;
  if (vm.count("json")) {
    out = "[";
    for (std::size_t i = 0; i < summaries.size(); ++i) {
      std::string object = to_json(summaries[i]);
      while (!object.empty() && object.back() == '\n') object.pop_back();
      out += (i == 0 ? "\n" : ",\n") + object;
    }
    out += summaries.empty() ? "]\n" : "\n]\n";
  } else if (summaries.empty()) {
    out = "no runs in " + runs_dir + "\n";
  } else {
    std::vector<std::vector<std::string>> rows{
        {"id", "model", "status", "steps", "final loss", "test accuracy", "started"}};
    for (const auto& s : summaries) {
      rows.push_back({s.run_id(), s.model().empty() ? "-" : s.model(), s.status(), std::to_string(s.steps()),
                      format_final_loss(s), s.has_test_accuracy() ? internal::shortest_text(s.test_accuracy()) : "-",
                      s.started_at().empty() ? "-" : s.started_at()});
    }
    out = format_columns(rows);
  }
  std::cout << out << std::flush;
  return kExitOk;
}

}  // namespace repro::cli
