// repro export: a finished run's final weights as a model snapshot tied to the run, and any run
// as a TensorBoard event file.
#include <iostream>

#include "options.h"
#include "proto/export.pb.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "repro/snapshot.h"
#include "repro/tensorboard.h"
#include "util/strings.h"

namespace repro::cli {

int run_export(const Args& args) {
  const CommandSpec spec{
      "export", "repro export RUN_DIR [--to FILE] [--tensorboard DIR] [--json]",
      "Writes what a run made, in other forms; at least one of --to and --tensorboard, or both.\n\n"
      "--to FILE writes the final weights of a finished run (its checkpoint after the last step) to\n"
      "FILE, with the run's identity: run id, config digest, data digest, code identity, parameter\n"
      "digest (equal to the run's final digest; verified on every load). `repro show FILE` prints\n"
      "the identity; repro::load_snapshot (repro/snapshot.h) reads the weights.\n\n"
      "--tensorboard DIR writes DIR/events.out.tfevents.<start>.reprotorch.<run id> (DIR is created\n"
      "if missing) for `tensorboard --logdir`: per step every named series (or `loss`), `lr` and\n"
      "`grad_norm`, and every evaluation as <split>/<metric>; wall time is the run's start plus the\n"
      "step's recorded elapsed time, so the same run gives the same bytes. Values are float32\n"
      "(TensorBoard's simple_value): float64 values are rounded; the record keeps the exact bits.\n"
      "Any run can be exported this way, finished or not. TensorBoard reads a directory as one\n"
      "run: give each run its own DIR.\n\n"
      "Each file is replaced atomically; a FIFO, device node or directory in its place is never\n"
      "replaced (exit 4, as for any write that fails).\n\n"
      "--json prints an ExportReport (proto/export.proto): `snapshot` with --to, `tensorboard` with\n"
      "--tensorboard."};
  po::options_description options("options");
  options.add_options()("run-dir", po::value<std::string>()->value_name("RUN_DIR")->required(), "the run")(
      "to", po::value<std::string>()->value_name("FILE"), "the snapshot file to write")(
      "tensorboard", po::value<std::string>()->value_name("DIR"), "the directory to write a TensorBoard event file in");
  po::positional_options_description positional;
  positional.add("run-dir", 1);
  po::variables_map vm;
  if (!parse_command(spec, options, positional, args, vm)) return kExitOk;
  if (!vm.count("to") && !vm.count("tensorboard")) {
    throw Error::usage("repro export: give --to FILE, --tensorboard DIR or both (see 'repro export --help')");
  }
  const std::string run_dir = vm["run-dir"].as<std::string>();
  proto::ExportReport report;
  if (vm.count("to")) *report.mutable_snapshot() = export_snapshot(run_dir, vm["to"].as<std::string>());
  if (vm.count("tensorboard")) {
    *report.mutable_tensorboard() = export_tensorboard(run_dir, vm["tensorboard"].as<std::string>());
  }
  if (vm.count("json")) {
    std::cout << to_json(report);
    return kExitOk;
  }
  if (report.has_snapshot()) {
    const auto& id = report.snapshot();
    std::cout << vm["to"].as<std::string>() << ": " << id.model() << " of run " << id.run_id() << ", param digest "
              << id.param_digest() << "\n";
  }
  if (report.has_tensorboard()) {
    const auto& tb = report.tensorboard();
    std::cout << tb.path() << ": " << tb.step_events() << " steps, " << tb.eval_events() << " evaluations, "
              << tb.values() << " values; tags " << (tb.tags().empty() ? "none" : internal::join(tb.tags(), ", "))
              << "\n";
  }
  return kExitOk;
}

}  // namespace repro::cli
