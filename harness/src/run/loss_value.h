// Private: a recorded step's loss as a double (f32 losses widen exactly).
#pragma once

#include <limits>

#include "proto/run_record.pb.h"

namespace repro::internal {

// NaN when the step has no loss.
inline double loss_value(const proto::StepRecord& step) {
  switch (step.loss_case()) {
    case proto::StepRecord::kLossF32: return step.loss_f32();
    case proto::StepRecord::kLossF64: return step.loss_f64();
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace repro::internal
