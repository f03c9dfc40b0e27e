#include "outcome.h"

#include <google/protobuf/struct.pb.h>

#include <iostream>

#include "repro/environment.h"
#include "repro/error.h"

namespace repro::cli {

int report_outcome(const std::string& command, const TrainOutcome& outcome, bool json) {
  const bool finished = outcome.status == proto::FINISHED;
  if (json) {
    google::protobuf::Struct result;
    (*result.mutable_fields())["run_dir"].set_string_value(outcome.run_dir);
    (*result.mutable_fields())["status"].set_string_value(finished ? "finished" : "failed");
    (*result.mutable_fields())["reason"].set_string_value(outcome.reason);
    std::cout << to_json(result);
  } else {
    if (!finished) std::cerr << "repro " << command << ": the run failed: " << outcome.reason << "\n";
    std::cout << outcome.run_dir << "\n";
  }
  return finished ? kExitOk : kExitCheckFailed;
}

}  // namespace repro::cli
