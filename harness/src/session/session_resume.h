// Private: reopening a recorded run directory so that a Session continues it
// (SessionOptions::resume_dir).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proto/run_config.pb.h"
#include "proto/run_record.pb.h"
#include "repro/record.h"
#include "run/checkpoint_archive.h"

namespace repro::internal {

struct ReopenedRun {
  proto::RunConfig config;            // the recorded config, with the requested thread counts
  proto::RunRecord header;            // updated (running, this pid, a ResumeEvent) and written
  std::unique_ptr<RunWriter> writer;  // streams cut back to the checkpoint
  std::string checkpoint_path;        // empty: no valid checkpoint, the run starts again
  std::string checkpoint_payload;     // verified
  CheckpointCounts counts;            // records kept (all zero without a checkpoint)
  double elapsed_s = 0;               // elapsed_s of the last kept step
};

// Continues the run in `dir`:
//  1. refuses (Error usage) a finished run ("nothing to resume: run finished"), one whose
//     process is still alive, and one another process is resuming (flock on <dir>/.resume.lock,
//     held until the header says running with this pid);
//  2. takes the recorded config, with the determinism thread counts of `requested`, and
//     applies determinism with the recorded seed; warns when the rest of `requested` differs
//     from the recorded config (the recorded one is used);
//  3. compares the environment now with the recorded one (numerics_differences in
//     env/environment_diff.h: the numerics-relevant facts `repro compare` names) and the data
//     and model files' digests with the recorded ones, then check_resume_differences: each
//     difference is a warning, and with `strict` an Error (usage) naming them, before anything
//     in `dir` changes;
//  4. picks the newest checkpoint that verifies; each newer corrupt one is named in a warning;
//     none: the run starts again from step 0 in the same directory (said in a warning). With
//     `agree` (a rank of a data-parallel job), the step picked is handed to it and it returns
//     the least and the greatest of every rank's; until they are equal, this rank takes its
//     newest valid checkpoint at or below the least and offers that (0: none, start again);
//  5. cuts steps.bin and evals.bin back to the checkpoint and rewrites the header.
//  5. cuts steps.bin and evals.bin back to the checkpoint and rewrites the header.
// Throws Error (input) for a directory that is not a run or a corrupt stream.
using AgreeOnStep = std::function<std::pair<std::int64_t, std::int64_t>(std::int64_t step)>;
ReopenedRun reopen_run(const std::string& dir, const proto::RunConfig& requested, bool strict,
                       const AgreeOnStep& agree = {});

// Step 3 of reopen_run, given its lines ("<fact>: <recorded> -> <now>"): warns "resume:
// environment differs from the recorded run: <line>" for each; with `strict` and any line,
// throws Error (usage) "<dir>: not resumed (--strict): the environment differs from the
// recorded run: <line>; <line>...". Does nothing for no lines.
void check_resume_differences(const std::string& dir, const std::vector<std::string>& differences, bool strict);

}  // namespace repro::internal
