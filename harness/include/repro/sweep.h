// repro/sweep.h: a config over several seeds and a grid of values, with its statistics —
// `repro sweep`.
//
//   repro::SweepOptions options;
//   options.repro_binary = "/usr/bin/repro";
//   options.seeds = 5;
//   options.vary = {"optimizer.lr=0.05,0.1"};
//   proto::SweepReport report = repro::run_sweep("models/configs/mlp_synthetic.textproto", options);
//   std::cout << repro::format_sweep(report);
//
// Grid. Each --vary "field=v1,v2,..." names one config field (a path as `repro run --set`
// takes it) and its values; the settings are the Cartesian product of the fields' values, in
// the order given, the last field varying fastest: --vary a=1,2 --vary b=x,y gives (a=1 b=x),
// (a=1 b=y), (a=2 b=x), (a=2 b=y). Values are separated by commas; to vary a list field
// (model.mlp.hidden) separate the values with ';' instead: "model.mlp.hidden=64,32;128". Without
// --vary there is one setting, labelled "base".
//
// Seeds. Every setting runs with the same N seeds (common random numbers: a difference
// between settings is not a difference of seeds), derived from the config's master seed M
// (after --set; 0 counts as 0, so even a config that draws its seed sweeps reproducibly):
//   seed_i = derive_seed(M, "sweep/<i>") for i = 1..N        (repro/determinism.h)
// (a seed of 0 would mean "draw one"; derive_seed gives 0 with probability 2^-63, and then 1
// is used). M itself is not among them, so a plain `repro run` of the config is a new seed.
//
// Runs. Each (setting, seed) is a fresh `repro run --config FILE --set ... --set seed=S`
// process, at most `jobs` at once, recorded in <report_dir>/runs/<setting>-seed<i>/ (setting
// and i counted from 1) with its output in <same>.log; runs/ is emptied first. Progress goes
// to the log (stderr). A failed run is listed in `errors` and left out of the statistics.
//
// Statistics, per setting, of each final metric over its runs (final_loss: the last step's
// training loss; "<split>/<metric>": the run's final evaluations, e.g. "test/accuracy") and of
// the loss at every step. For finite values x_1..x_n (NaN and infinities are counted in
// `nonfinite` and left out):
//   mean = (1/n) Σ x_i
//   std  = sqrt( Σ (x_i - mean)^2 / (n - 1) )             (sample std; 0 when n < 2)
//   min, max
//   95% CI of the mean = mean ± t(0.975, n-1) · std / sqrt(n)    (absent when n < 2)
// where t(p, ν) is the p-quantile of Student's t distribution with ν degrees of freedom
// (student_t_quantile; t(0.975, 4) = 2.7764 for 5 seeds).
//
// Sensitivity, per varied field and metric: value mean(v) = mean of the setting means of the
// settings where the field has value v; effect = max_v mean(v) - min_v mean(v); seed_std =
// sqrt(mean of the settings' variances std^2) (settings with n >= 2: the pooled seed-to-seed
// spread); ratio = effect / seed_std. A ratio well above ~3 means the field moves the metric
// by more than the seeds do; below ~1 the field's effect is lost in seed noise.
//
// A program of your own (sweep_program, `repro sweep -- PROGRAM ARGS...`): a program that
// records with a repro::Session, started per (setting, seed) with REPRO_RUN_DIR, REPRO_SEED
// (seed_i derived as above from SweepOptions::base_seed, default 1: a program has no config for
// the sweep to read its seed from), REPRO_SET (SweepOptions::sets, then the setting's --vary
// assignments, one per line: "params.lr=0.01"; the Session applies them, repro/session.h) and
// REPRO_LAUNCHER "repro sweep". The program is resolved before anything runs: an absolute path
// as it is, a bare name on PATH (else in the working directory), any other relative path from
// the working directory; it runs in the working directory, its output in the run's .log. The
// statistics are the same, over the losses it records; with named step values (record_step
// with NamedValues) also "final_<name>" for each series. Its config is its own, so an
// assignment is checked for its form only; a setting's config_digest is that of the config its
// first run recorded, seed 0. SweepReport.command holds the command as given, `config` stays
// empty.
//
// Everything in the report is a function of the config, the flags and the runs' recorded
// numbers: repeating a sweep on the same machine gives the same report, byte for byte
// (run directories are named relative to the report directory).
// Envelopes made from a sweep: repro/envelope.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proto/sweep.pb.h"
#include "repro/record.h"

namespace repro {

inline constexpr unsigned kSweepReportSchemaVersion = 1;
// The master seed of a program sweep when SweepOptions::base_seed is not changed.
inline constexpr std::uint64_t kDefaultProgramSweepSeed = 1;

struct SweepOptions {
  // The `repro` executable run for each seed. Default: this executable (right when the caller
  // is `repro` itself; a program of your own names the binary).
  std::string repro_binary;
  int seeds = 5;                  // seeds per setting; at least 2
  std::vector<std::string> sets;  // "path=value" overrides applied to every setting first
  std::vector<std::string> vary;  // "field=v1,v2,..." each (see Grid above)
  int jobs = 1;                   // runs at once; at least 1
  // runs/, their logs, sweep.json and site/ (the HTML report of the runs, repro/html_report.h)
  std::string report_dir = "sweep-report";
  // sweep_program only: the master seed the seeds are derived from (a config's is its `seed`).
  std::uint64_t base_seed = kDefaultProgramSweepSeed;
};

struct VariedValues {
  std::string field;
  std::vector<std::string> values;
};

// Parses one `vary` specification. Throws Error (usage) naming SweepOptions::vary and the
// specification when it has no '=', no field, no value, an empty or repeated value, or varies
// `seed` (use SweepOptions::seeds).
VariedValues parse_vary(const std::string& spec);

// The grid: one list of "field=value" assignments per setting, last field fastest (see Grid).
// No fields: one empty setting. Throws Error (usage) when a field is varied twice.
std::vector<std::vector<std::string>> expand_grid(const std::vector<VariedValues>& fields);

// seed_i = derive_seed(master, "sweep/<i>"), i = 1..n (0 replaced by 1).
std::vector<std::uint64_t> sweep_seeds(std::uint64_t master, int n);

// Runs the sweep and returns its report; also writes it to <report_dir>/sweep.json. Every
// setting's config is loaded and validated before anything runs: a bad config, --set or
// --vary (unknown field, bad value, invalid result) throws Error (usage or input) naming the
// field, and so does a repro_binary that is given but does not exist or cannot be executed
// (Error (input)). Failed runs are not exceptions: they are listed in the report's `errors`.
proto::SweepReport run_sweep(const std::string& config_path, const SweepOptions& options);

// The same for a program of yours (see "A program of your own" above): `command` is its argv.
// Before anything runs, throws Error (usage) for seeds or jobs out of range, a `vary` or `sets`
// entry without the form "path=value", a set of `seed` (base_seed gives the seeds), and Error
// (input) naming "sweep program" and the path when `command` is empty or its program cannot
// be found or executed. Runs that fail, or exit 0 without recording, are in `errors`.
proto::SweepReport sweep_program(const std::vector<std::string>& command, const SweepOptions& options);

// --- statistics (sweep_stats.cc) ---

// The p-quantile of Student's t distribution with `dof` > 0 degrees of freedom, p in (0, 1),
// to about 1e-12 (bisection on the CDF, computed through the regularized incomplete beta
// function). Throws Error (usage) outside those ranges.
double student_t_quantile(double p, double dof);

// A run's final metrics by name: "final_loss" (its last recorded step's loss, when it has
// steps), "final_<name>" for each named value of that step (record_step with NamedValues:
// "final_d_loss", "final_g_loss") and "<split>/<metric>" for each metric of its final
// evaluations.
std::map<std::string, double> final_metrics(const RunData& run);

// The statistics above for `values`.
proto::Stats describe(const std::vector<double>& values);

// A setting's statistics from its runs: runs[i] is the run of setting->runs(i), nullptr when
// it failed (left out). Fills each run's `metrics` map, setting->metrics and setting->steps
// (each step's loss, and each other named series of the step: StepStats.series). Throws Error (internal) when the sizes
// differ.
void summarize_setting(const std::vector<const RunData*>& runs, proto::SweepSetting* setting);

// The sensitivity table for the report's varied fields and its settings' metrics (field by
// field in --vary order, metrics in the order of the first setting).
std::vector<proto::Sensitivity> sensitivity(const proto::SweepReport& report);

// Text: a table per metric (setting, n, mean, std, min, max, 95% CI), then the sensitivity
// table, then the errors.
std::string format_sweep(const proto::SweepReport& report);

}  // namespace repro
