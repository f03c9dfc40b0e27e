// Shared by the end-to-end tests that read comparison reports: a ComparisonReport from `--json`
// (protobuf's JSON mapping). last_line is in testutil.h.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <string>

#include "proto/report.pb.h"
#include "testutil.h"

namespace repro::testing {

inline proto::ComparisonReport parse_report(const ProcessResult& r) {
  proto::ComparisonReport report;
  const auto status = google::protobuf::util::JsonStringToMessage(r.out, &report);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << r.out << r.err;
  return report;
}

}  // namespace repro::testing
