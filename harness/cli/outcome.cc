#include "outcome.h"

#include <google/protobuf/struct.pb.h>

#include <iostream>

#include "repro/environment.h"
#include "repro/error.h"

namespace repro::cli {

int report_outcome(const std::string& command, const TrainOutcome& outcome, bool json) {
  const bool finished = outcome.status == proto::FINISHED;
  // Interrupted is returned only for a run stopped after its trace window (REPRO_TRACE_STOP):
  // asked for, not a failure.
  const bool stopped = outcome.status == proto::INTERRUPTED;
  if (json) {
    google::protobuf::Struct result;
    (*result.mutable_fields())["run_dir"].set_string_value(outcome.run_dir);
    (*result.mutable_fields())["status"].set_string_value(finished ? "finished" : stopped ? "interrupted" : "failed");
    (*result.mutable_fields())["reason"].set_string_value(outcome.reason);
    std::cout << to_json(result);
  } else {
    if (stopped) std::cerr << "repro " << command << ": " << outcome.reason << "\n";
    if (!finished && !stopped) std::cerr << "repro " << command << ": the run failed: " << outcome.reason << "\n";
    std::cout << outcome.run_dir << "\n";
  }
  return finished || stopped ? kExitOk : kExitCheckFailed;
}

}  // namespace repro::cli
