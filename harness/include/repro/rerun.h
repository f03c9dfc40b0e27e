// repro/rerun.h: re-execute a recorded run in a fresh process, exactly as recorded.
//
// A built-in run (origin "repro run") is re-executed from its recorded resolved config (seed
// included). A run made by a user's program through Session is re-executed from its recorded
// argv in its recorded working directory, after checking that the executable is unchanged, with
// the recorded master seed (REPRO_SEED: a seed the program's config left to be drawn is the
// same again) and the recorded launcher overrides (REPRO_SET, RunRecord.overrides). In
// both cases the child gets the recorded numerics variables (thread counts, CPU-kernel pins,
// OMP_*/MKL_*/... exactly as they were) and records into a new directory as a rerun of the
// original (REPRO_RUN_DIR and REPRO_RERUN_OF, read by the Session).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "proto/report.pb.h"
#include "repro/compare.h"
#include "repro/data.h"
#include "repro/record.h"

namespace repro {

struct RerunOptions {
  // Runs built-in configs. Default: this executable (right when the caller is `repro` itself;
  // a program of your own names the `repro` binary here).
  std::string repro_binary;
  std::string runs_dir;  // where the new run goes; default: the original's parent directory
  bool allow_data_change = false;
  bool allow_model_change = false;  // the model file (model.torchscript.path)
  bool allow_changed_code = false;
  // Digest every tracked file again, in this check and in the child, ignoring the digest cache
  // (repro/data.h; `repro rerun --rehash`). Default off.
  bool rehash = false;
  // Where this machine would pick other CPU kernels than the run did (kernel_mismatches() in
  // repro/environment.h: the run left them unpinned and this CPU differs), pin the recorded ones
  // in the child (ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA, OPENBLAS_CORETYPE, GLIBC_TUNABLES).
  // Default off: the mismatch is warned about before the child starts, and the comparison names
  // it if the bits differ. On, rerun() throws Error (usage) naming the choice when this CPU
  // cannot make it (a run on AVX-512 kernels, rerun on an AVX2 machine).
  bool match_kernels = false;
  // Variables set in the child's environment after everything above (`repro trace` passes
  // REPRO_TRACE_*, repro/trace.h). Default: none.
  std::map<std::string, std::string> extra_env;
};

// Input files of a run whose content changed since it was recorded (or that are gone): data
// files and directories (category "data", field "data.files[<role>]"), the model file
// (category "model", field "model.file"), and, for runs of a user's program, a changed
// executable; each as a Difference with its explanation ("train-images-idx3-ubyte.gz content
// changed since the run: <path>"; a directory, against its manifest in `run_dir`: "data/train:
// 2,000 files added, 1 changed (added: ...; changed: ...) since the run"). Files and directories
// a Session tracked are digested through the digest cache (`digest`). Empty when all is as
// recorded. Without `run_dir` a changed directory is named without its files.
std::vector<proto::Difference> changed_inputs(const proto::RunRecord& record, const std::string& run_dir = "",
                                              const DigestOptions& digest = {});

// The option that lets a rerun go ahead despite `changed` (one of changed_inputs()), by its
// field name: "allow_data_change", "allow_model_change" (category "model") or
// "allow_changed_code" (category "code").
std::string allowing_option(const proto::Difference& changed);

struct RerunResult {
  std::vector<proto::Difference> refused;  // non-empty: nothing was run (changed data or code)
  // Changed inputs it ran despite: allowed by the options, or paths tracked only because they
  // were on the command line (they may be outputs of the run: named, never refused).
  std::vector<proto::Difference> allowed;
  std::string run_dir;  // the new run, when one was made
  int exit_code = 0;    // the child's exit status (128 + signal)
};

// Re-executes `original` (see above) and waits for it. Refuses, running nothing, when
// changed_inputs() is not empty, unless the options allow the change; a changed path that was
// tracked only because it was on the command line (TRACKED_BY_ARGV) is warned about, never
// refused. Where this machine would choose other CPU kernels than the run (and
// options.match_kernels is off) it warns before starting, naming each choice. A run recorded in a dirty git work tree
// is rerun from that work tree as it is now: when it no longer matches the recorded patch (another commit, or other
// uncommitted changes), a warning names the files that differ; it never refuses. The child's stdout is sent to this
// process's stderr, so stdout stays free for the report. Before anything is written or started, throws Error (input)
// naming it when the executable to run (options.repro_binary for a built-in run; for a user's program its recorded
// executable) does not exist or cannot be executed, or the recorded working directory is gone. Throws Error (internal)
// when the child exits without recording a run.
RerunResult rerun(const RunData& original, const RerunOptions& options);

// The report of a refused rerun (`refused`: RerunResult::refused, not empty): verdict
// incomparable, run A the original, no run B, the refused differences, and the summary
// "refused: <the first one's explanation> (RerunOptions::<allowing_option> runs anyway)".
proto::ComparisonReport refusal_report(const RunData& original, const std::vector<proto::Difference>& refused);

// `repro rerun`: rerun(), then compare_runs(original, the new run, tolerance), with each of
// RerunResult::allowed among its differences; when the rerun is refused, refusal_report(). Throws what rerun() and
// read_run() throw.
proto::ComparisonReport rerun_and_compare(const RunData& original, const RerunOptions& options,
                                          const Tolerance& tolerance);

}  // namespace repro
