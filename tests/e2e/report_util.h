// Shared by the end-to-end tests that read `repro` output: the run directory `repro run` prints
// last, and a ComparisonReport from `--json` (protobuf's JSON mapping).
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <string>

#include "proto/report.pb.h"
#include "testutil.h"

namespace repro::testing {

inline std::string last_line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  const auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

inline proto::ComparisonReport parse_report(const ProcessResult& r) {
  proto::ComparisonReport report;
  const auto status = google::protobuf::util::JsonStringToMessage(r.out, &report);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << r.out << r.err;
  return report;
}

}  // namespace repro::testing
