// repro sweep: a config over several seeds and a grid of values, with statistics, a
// sensitivity table and, on request, an envelope baseline.
#include <filesystem>
#include <iostream>

#include "options.h"
#include "repro/config.h"
#include "repro/envelope.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/sweep.h"

namespace repro::cli {

int run_sweep(const Args& args) {
  const CommandSpec spec{
      "sweep",
      "repro sweep --config FILE [--seeds N] [--vary field=v1,v2,...]... [--set path=value]... [-j N]\n"
      "                   [--report DIR] [--save-envelope FILE [--envelope-k K] [--envelope-floor F]] [--json]",
      "Runs the config with N seeds (derived from its master seed: seed_i = derive_seed(seed,\n"
      "\"sweep/<i>\")) and, with --vary, over the grid of the values given (the product of all\n"
      "--vary fields, the last one fastest), each run a fresh `repro run` process, -j at once.\n"
      "Prints per setting the mean, sample std, min, max and 95% confidence interval (Student t)\n"
      "of the final loss and the final evaluation metrics, then a sensitivity table: how far each\n"
      "varied field moves each metric, against the seed-to-seed std. The report directory holds\n"
      "the runs (runs/<setting>-seed<i>/ and their logs) and sweep.json (the report, also what\n"
      "--json prints; per-step loss statistics included; plot it with tools/plot_sweep).\n"
      "To vary a list field separate the values with ';': --vary 'model.mlp.hidden=64,32;128'.\n"
      "--save-envelope FILE (no --vary) stores the per-step loss band and final metric bands,\n"
      "[min - m, max + m] with m = k*std + floor*max(|mean|, loss at step 0), for\n"
      "`repro check --envelope FILE RUN_DIR` (see harness/include/repro/envelope.h).\n"
      "Exit: 0 every run finished, 1 a run failed (it is left out of the statistics; no envelope\n"
      "is saved), 2 bad input (config, flag, --vary field or value)."};
  po::options_description options("options");
  add_config_options(options);  // --config, --set (applied to every run)
  options.add_options()("seeds", po::value<int>()->value_name("N")->default_value(5), "seeds per setting (at least 2)")(
      "vary", po::value<std::vector<std::string>>()->value_name("FIELD=V1,V2")->composing(),
      "a config field and its values (repeatable: the grid is their product)")(
      "report", po::value<std::string>()->value_name("DIR")->default_value("sweep-report"),
      "report directory: runs/, logs, sweep.json")("save-envelope", po::value<std::string>()->value_name("FILE"),
                                                   "write the envelope baseline (JSON) to FILE")(
      "envelope-k", po::value<double>()->value_name("K")->default_value(kDefaultEnvelopeK, "4"),
      "envelope margin: K seed standard deviations...")(
      "envelope-floor", po::value<double>()->value_name("F")->default_value(kDefaultEnvelopeFloor, "0.05"),
      "...plus F times max(|mean|, loss at step 0)");
  add_jobs_option(options);
  po::variables_map vm;
  if (!parse_command(spec, options, {}, args, vm)) return kExitOk;

  SweepOptions opts;
  opts.seeds = vm["seeds"].as<int>();
  opts.jobs = jobs_from(vm);
  opts.report_dir = vm["report"].as<std::string>();
  if (vm.count("vary")) opts.vary = vm["vary"].as<std::vector<std::string>>();
  if (vm.count("set")) opts.sets = vm["set"].as<std::vector<std::string>>();
  const std::string envelope_path = vm.count("save-envelope") ? vm["save-envelope"].as<std::string>() : "";
  const double k = vm["envelope-k"].as<double>();
  const double floor = vm["envelope-floor"].as<double>();
  if (!envelope_path.empty()) {
    if (!opts.vary.empty()) throw Error::usage("repro sweep: --save-envelope takes one setting; drop --vary");
    if (!(k >= 0) || !(floor >= 0)) throw Error::usage("repro sweep: --envelope-k and --envelope-floor must be >= 0");
  }

  const std::string config_path = vm["config"].as<std::string>();
  const proto::SweepReport report = repro::run_sweep(config_path, opts);
  const bool failed = report.errors_size() > 0;
  if (!envelope_path.empty() && !failed) {
    proto::RunConfig config = load_config(config_path, opts.sets);
    save_envelope(make_envelope(report.settings(0), config, k, floor), envelope_path);
  }
  if (vm.count("json")) {
    std::cout << to_json(report) << "\n";
  } else {
    std::cout << format_sweep(report) << "\nreport: " << opts.report_dir << "/sweep.json\n";
    if (!envelope_path.empty()) {
      std::cout << (failed ? "envelope NOT saved (runs failed): " : "envelope: ") << envelope_path << "\n";
    }
  }
  return failed ? kExitCheckFailed : kExitOk;
}

}  // namespace repro::cli
