// Aligning two traces of one step and naming the first difference (repro/trace.h).
#include <algorithm>
#include <cctype>

#include "repro/trace.h"
#include "util/strings.h"

namespace repro {
namespace {

std::string phase_name(proto::Phase p) {
  switch (p) {
    case proto::FORWARD:
      return "forward";
    case proto::BACKWARD:
      return "backward";
    case proto::UPDATE:
      return "update";
    default:
      return "unknown phase";
  }
}

// "op 17 aten::mean (forward, in mlp)"
std::string describe(int64_t index, const proto::OpEvent& op) {
  std::string where = phase_name(op.phase());
  if (!op.autograd_node().empty()) where += ", " + op.autograd_node();
  if (!op.scope().empty()) where += ", in " + op.scope();
  return "op " + std::to_string(index) + " " + op.name() + " (" + where + ")";
}

bool same_layout(const proto::TraceValue& a, const proto::TraceValue& b) {
  return a.kind() == b.kind() && a.dtype() == b.dtype() &&
         std::equal(a.shape().begin(), a.shape().end(), b.shape().begin(), b.shape().end());
}

// Indices whose digests differ; `layout` set when a kind, dtype, shape or the count differs.
std::vector<int> differing(const google::protobuf::RepeatedPtrField<proto::TraceValue>& a,
                           const google::protobuf::RepeatedPtrField<proto::TraceValue>& b, bool* layout) {
  std::vector<int> out;
  *layout = a.size() != b.size();
  for (int i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (!same_layout(a.Get(i), b.Get(i))) *layout = true;
    if (a.Get(i).digest() != b.Get(i).digest() || a.Get(i).value() != b.Get(i).value()) out.push_back(i);
  }
  return out;
}

std::string indices(const std::vector<int>& v) {
  std::vector<std::string> s;
  for (int i : v) s.push_back(std::to_string(i));
  return internal::join(s, ", ");
}

std::vector<std::string> state_differences(const proto::StepState& a, const proto::StepState& b) {
  std::vector<std::string> out;
  if (a.param_digest() != b.param_digest()) {
    std::vector<std::string> names;
    for (const auto& [name, digest] : a.tensor_digests()) {
      const auto it = b.tensor_digests().find(name);
      if (it == b.tensor_digests().end() || it->second != digest) names.push_back(name);
    }
    std::sort(names.begin(), names.end());  // a protobuf map has no order
    out.push_back("parameters" + (names.empty() ? std::string() : " (" + internal::join(names, ", ") + ")"));
  }
  if (!a.optimizer_digest().empty() && !b.optimizer_digest().empty() && a.optimizer_digest() != b.optimizer_digest()) {
    out.push_back("optimizer state");
  }
  if (a.rng_digest() != b.rng_digest()) out.push_back("RNG state");
  if (!a.batch_digest().empty() && !b.batch_digest().empty() && a.batch_digest() != b.batch_digest()) {
    out.push_back("batch");
  }
  return out;
}

}  // namespace

proto::TraceReport align_traces(const proto::Trace& a, const proto::Trace& b) {
  proto::TraceReport r;
  const int64_t step = a.start().state().step();
  r.set_step(step);
  r.set_ops_a(a.ops_size());
  r.set_ops_b(b.ops_size());
  const auto state = state_differences(a.start().state(), b.start().state());
  if (!state.empty()) {
    r.set_verdict(proto::STATE_DIFFERS);
    for (const auto& s : state) r.add_state_differences(s);
    r.set_summary("the state entering step " + std::to_string(step) + " already differs: " +
                  internal::join(state, ", ") + " — the cause lies before step " + std::to_string(step));
    return r;
  }
  const int n = std::min(a.ops_size(), b.ops_size());
  for (int i = 0; i < n; ++i) {
    const auto& x = a.ops(i);
    const auto& y = b.ops(i);
    auto set_ops = [&] {
      r.set_op_index(i);
      *r.mutable_op_a() = x;
      *r.mutable_op_b() = y;
    };
    bool in_layout = false, out_layout = false;
    const auto in = differing(x.inputs(), y.inputs(), &in_layout);
    if (x.name() != y.name() || in_layout) {
      set_ops();
      r.set_verdict(proto::SEQUENCE_MISMATCH);
      r.set_summary(x.name() != y.name()
                        ? "the runs ran different ops: " + describe(i, x) + " in A, " + y.name() + " in B"
                        : describe(i, x) + ": its inputs have different shapes, dtypes or count in the two runs");
      return r;
    }
    if (!in.empty()) {
      set_ops();
      for (int k : in) r.add_differing_inputs(k);
      r.set_verdict(proto::EXTERNAL_INPUT);
      r.set_summary(describe(i, x) + ": input " + indices(in) +
                    " differs though no earlier op's output did — state injected from outside ATen "
                    "(an unseeded RNG in user code, uninitialised memory, data)");
      return r;
    }
    const auto out = differing(x.outputs(), y.outputs(), &out_layout);
    if (!out.empty() || out_layout) {
      set_ops();
      for (int k : out) r.add_differing_outputs(k);
      if (x.name().rfind("c10d::", 0) == 0) {
        // A collective's result is the other ranks' values too (repro/trace.h, "Collectives").
        r.set_verdict(proto::OTHER_RANK);
        r.set_summary(describe(i, x) +
                      ": this rank's inputs are identical, the result differs — another rank contributed "
                      "other values (trace the other ranks: --rank R)");
        return r;
      }
      r.set_verdict(proto::NONDETERMINISTIC_OP);
      r.set_summary(describe(i, x) + ": identical inputs, different outputs — a non-deterministic op");
      return r;
    }
  }
  if (a.ops_size() != b.ops_size()) {
    r.set_op_index(n);
    r.set_verdict(proto::SEQUENCE_MISMATCH);
    const auto& longer = a.ops_size() > b.ops_size() ? a : b;
    r.set_summary("the runs ran different ops: after " + std::to_string(n) + " identical ops, run " +
                  (a.ops_size() > b.ops_size() ? "A" : "B") + " goes on with " + describe(n, longer.ops(n)));
    return r;
  }
  r.set_verdict(proto::SAME);
  r.set_summary("step " + std::to_string(step) + ": the same state, the same " + std::to_string(n) +
                " ops with the same digests in both runs");
  return r;
}

bool same_outputs(const proto::Trace& a, const proto::Trace& b, std::string* first) {
  const int n = std::min(a.ops_size(), b.ops_size());
  for (int i = 0; i < n; ++i) {
    bool layout = false;
    if (a.ops(i).name() != b.ops(i).name() || !differing(a.ops(i).outputs(), b.ops(i).outputs(), &layout).empty() ||
        layout) {
      if (first != nullptr) *first = describe(i, a.ops(i));
      return false;
    }
  }
  if (a.ops_size() != b.ops_size()) {
    if (first != nullptr) *first = "op count " + std::to_string(a.ops_size()) + " vs " + std::to_string(b.ops_size());
    return false;
  }
  return true;
}

std::string trace_report_path(const std::string& run_dir_a, const std::string& run_id_b) {
  std::string name;
  for (char c : run_id_b)
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '_';
  return run_dir_a + "/traces/report-" + name + ".pb";
}

}  // namespace repro
