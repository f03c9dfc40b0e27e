// repro sweep: a config over several seeds and a grid of values, with statistics, a
// sensitivity table and, on request, an envelope baseline.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>

#include "options.h"
#include "repro/config.h"
#include "repro/envelope.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/sweep.h"

namespace repro::cli {

int run_sweep(const Args& args) {
  const CommandSpec spec{
      "sweep",
      "repro sweep --config FILE [--seeds N] [--vary field=v1,v2,...]... [--set path=value]... [-j N]\n"
      "                   [--report DIR] [--save-envelope FILE [--envelope-k K] [--envelope-floor F]] [--json]\n"
      "       repro sweep [--seeds N] [--seed BASE] [--vary params.x=a,b]... [--set ...] [-j N] [--report DIR]\n"
      "                   [--save-envelope FILE ...] [--json] -- PROGRAM ARGS...",
      "Runs the config with N seeds (derived from its master seed: seed_i = derive_seed(seed,\n"
      "\"sweep/<i>\")) and, with --vary, over the grid of the values given (the product of all\n"
      "--vary fields, the last one fastest), each run a fresh `repro run` process, -j at once.\n"
      "Prints per setting the mean, sample std, min, max and 95% confidence interval (Student t)\n"
      "of the final loss and the final evaluation metrics, then a sensitivity table: how far each\n"
      "varied field moves each metric, against the seed-to-seed std. The report directory holds\n"
      "the runs (runs/<setting>-seed<i>/ and their logs) and sweep.json (the report, also what\n"
      "--json prints; per-step loss statistics included; plot it with tools/plot_sweep) and site/,\n"
      "the HTML report of the runs (as `repro report` writes it).\n"
      "To vary a list field separate the values with ';': --vary 'model.mlp.hidden=64,32;128'.\n"
      "--save-envelope FILE (no --vary) stores the per-step loss band and final metric bands,\n"
      "[min - m, max + m] with m = k*std + floor*max(|mean|, loss at step 0), for\n"
      "`repro check --envelope FILE RUN_DIR` (see harness/include/repro/envelope.h).\n"
      "With -- PROGRAM ARGS... instead of --config, sweeps a program of yours that records with a\n"
      "repro::Session: each run starts it with REPRO_SEED (seed_i derived as above from --seed BASE,\n"
      "default 1), REPRO_SET (the --set and --vary assignments, e.g. params.lr=0.01) and REPRO_RUN_DIR;\n"
      "the statistics are over the losses it records. PROGRAM is looked up on PATH when it is a bare\n"
      "name, else taken from the working directory.\n"
      "Exit: 0 every run finished, 1 a run failed (it is left out of the statistics; no envelope\n"
      "is saved), 2 bad input (config, flag, --vary field or value)."};
  // Everything after "--" is the program and its arguments, not our flags.
  const auto dashes = std::find(args.begin(), args.end(), "--");
  const Args flags(args.begin(), dashes);
  const std::vector<std::string> command(dashes == args.end() ? dashes : dashes + 1, args.end());
  const bool program = dashes != args.end();
  po::options_description options("options");
  add_config_options(options, /*config_required=*/false);  // --config, --set (applied to every run)
  options.add_options()("seeds", po::value<int>()->value_name("N")->default_value(5), "seeds per setting (at least 2)")(
      "seed", po::value<std::uint64_t>()->value_name("BASE"),
      "-- PROGRAM only: the master seed the seeds are derived from (default 1)")(
      "vary", po::value<std::vector<std::string>>()->value_name("FIELD=V1,V2")->composing(),
      "a config field and its values (repeatable: the grid is their product)")(
      "report", po::value<std::string>()->value_name("DIR")->default_value("sweep-report"),
      "report directory: runs/, logs, sweep.json, site/")("save-envelope", po::value<std::string>()->value_name("FILE"),
                                                          "write the envelope baseline (JSON) to FILE")(
      "envelope-k", po::value<double>()->value_name("K")->default_value(kDefaultEnvelopeK, "4"),
      "envelope margin: K seed standard deviations...")(
      "envelope-floor", po::value<double>()->value_name("F")->default_value(kDefaultEnvelopeFloor, "0.05"),
      "...plus F times max(|mean|, loss at step 0)");
  add_jobs_option(options);
  po::variables_map vm;
  if (!parse_command(spec, options, {}, flags, vm)) return kExitOk;
  if (program == (vm.count("config") > 0)) {
    throw Error::usage("repro sweep: give either --config FILE or -- PROGRAM ARGS... (see 'repro sweep --help')");
  }
  if (program && command.empty()) throw Error::usage("repro sweep: no program after --");
  if (!program && vm.count("seed")) {
    throw Error::usage("repro sweep: --seed is for -- PROGRAM; a config's master seed is its seed (--set seed=N)");
  }

  SweepOptions opts;
  opts.seeds = vm["seeds"].as<int>();
  if (vm.count("seed")) opts.base_seed = vm["seed"].as<std::uint64_t>();
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

  const std::string config_path = program ? "" : vm["config"].as<std::string>();
  const proto::SweepReport report = program ? sweep_program(command, opts) : repro::run_sweep(config_path, opts);
  const bool failed = report.errors_size() > 0;
  if (!envelope_path.empty() && !failed) {
    // A program's config is the one its first run recorded.
    const proto::RunConfig config =
        program ? read_run(opts.report_dir + "/" + report.settings(0).runs(0).dir()).header.config()
                : load_config(config_path, opts.sets);
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
