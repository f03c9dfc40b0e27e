// Internal to header_differences: collecting Difference entries, one file per part of a header.
#pragma once

#include <string>
#include <vector>

#include "proto/environment.pb.h"
#include "proto/report.pb.h"
#include "proto/run_record.pb.h"

namespace repro::internal {

// Appends differences to a list, in the order found (config, seeds, data, code, environment,
// model), and turns values into text.
class DifferenceList {
 public:
  // Adds one difference when `a` != `b`; `explanation` is prefixed with "<what> <a> vs <b>: ".
  void add(const std::string& category, const std::string& field, const std::string& a, const std::string& b,
           bool affects_numerics, const std::string& what, const std::string& why);
  // Adds `d` as it is (its explanation already written).
  void add(proto::Difference d) { items_.push_back(std::move(d)); }
  std::vector<proto::Difference> take() { return std::move(items_); }

 private:
  std::vector<proto::Difference> items_;
};

// "" shown as "(none)".
std::string or_none(const std::string& text);

// A user program's hyperparameters (RunRecord.params, by name: value, default, type, source),
// config.params entries neither run asked for, and, for two runs of programs (origin
// "session"), their argv element by element from argv[1] (compare_params.cc).
void add_params_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out);
void add_argv_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out);

void add_environment_differences(const proto::Environment& a, const proto::Environment& b, DifferenceList& out);

}  // namespace repro::internal
