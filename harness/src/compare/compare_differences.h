// Internal to header_differences: collecting Difference entries, one file per part of a header.
#pragma once

#include <string>
#include <vector>

#include "proto/environment.pb.h"
#include "proto/report.pb.h"
#include "proto/run_record.pb.h"
#include "repro/record.h"

namespace repro::internal {

// Appends differences to a list, in the order found (config, seeds, data, code, environment,
// model), and turns values into text.
class DifferenceList {
 public:
  // Adds one difference when `a` != `b`; `explanation` is prefixed with "<what> <a> vs <b>: ".
  void add(const std::string& category, const std::string& field, const std::string& a, const std::string& b,
           bool affects_numerics, const std::string& what, const std::string& why);
  // Adds one difference whose explanation is given whole (no values prefixed).
  void add_explained(const std::string& category, const std::string& field, const std::string& a, const std::string& b,
                     bool affects_numerics, const std::string& explanation);
  // Adds `d` as it is (its explanation already written).
  void add(proto::Difference d) { items_.push_back(std::move(d)); }
  std::vector<proto::Difference> take() { return std::move(items_); }

 private:
  std::vector<proto::Difference> items_;
};

// "" shown as "(none)".
std::string or_none(const std::string& text);

// With the run directories at hand: a "code.patch_xxh3" difference in `out` names the files
// whose part of the two code.patch files differs (header_differences, without the files, names
// the changed files of each). Unreadable patch files leave it as it is.
void name_patched_files(const RunData& a, const RunData& b, google::protobuf::RepeatedPtrField<proto::Difference>* out);
// A user program's hyperparameters (RunRecord.params, by name: value, default, type, source),
// config.params entries neither run asked for, and, for two runs of programs (origin
// "session"), their argv element by element from argv[1] (compare_params.cc).
void add_params_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out);
void add_argv_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out);

// World size, backend, sharding and reduction rules, each rank's environment digest
// (compare_distributed.cc); a single process reads as world size 1.
void add_distributed_differences(const proto::RunRecord& a, const proto::RunRecord& b, DifferenceList& out);

void add_environment_differences(const proto::Environment& a, const proto::Environment& b, DifferenceList& out);

}  // namespace repro::internal
