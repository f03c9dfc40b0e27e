// Shared by the end-to-end tests that read a command's `--json` output (protobuf's JSON mapping
// of its report message). last_line is in testutil.h.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <string>

#include "proto/report.pb.h"
#include "testutil.h"

namespace repro::testing {

// The process's stdout as a `Message`; a parse failure fails the test with the output.
template <class Message>
Message parse_json(const ProcessResult& r) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(r.out, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << r.out << r.err;
  return message;
}

inline proto::ComparisonReport parse_report(const ProcessResult& r) { return parse_json<proto::ComparisonReport>(r); }

}  // namespace repro::testing
