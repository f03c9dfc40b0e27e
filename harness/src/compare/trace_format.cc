// Text forms of traces and trace reports (repro/trace.h).
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "repro/trace.h"
#include "util/exact.h"

namespace repro {
namespace {

const char* phase_tag(proto::Phase p) {
  switch (p) {
    case proto::FORWARD:
      return "fwd";
    case proto::BACKWARD:
      return "bwd";
    case proto::UPDATE:
      return "upd";
    default:
      return "?";
  }
}

// "Float[32, 16] 1a2b3c4d5e6f7a8b", "scalar 0.5", "None"
std::string value_text(const proto::TraceValue& v, std::size_t digest_chars) {
  if (v.kind() == "tensor") {
    std::string s = v.dtype() + "[";
    for (int i = 0; i < v.shape_size(); ++i) s += (i ? ", " : "") + std::to_string(v.shape(i));
    return s + "] " + v.digest().substr(0, digest_chars);
  }
  if (v.kind() == "undefined") return "undefined";
  if (v.kind() == "none") return "None";
  if (v.kind() == "scalar") return v.value();
  return v.kind() + (v.value().empty() ? "" : " " + v.value());
}

std::string values_text(const google::protobuf::RepeatedPtrField<proto::TraceValue>& values) {
  std::string s;
  for (int i = 0; i < values.size(); ++i) s += (i ? "; " : "") + value_text(values.Get(i), 16);
  return s;
}

const char* verdict_name(proto::TraceVerdict v) {
  switch (v) {
    case proto::SAME:
      return "same";
    case proto::STATE_DIFFERS:
      return "state entering the step differs";
    case proto::NONDETERMINISTIC_OP:
      return "non-deterministic op";
    case proto::EXTERNAL_INPUT:
      return "input from outside ATen";
    case proto::SEQUENCE_MISMATCH:
      return "different op sequences";
    case proto::OTHER_RANK:
      return "input from another rank";
    default:
      return "unknown";
  }
}

void print_values(std::ostringstream& out, const char* what,
                  const google::protobuf::RepeatedPtrField<proto::TraceValue>& a,
                  const google::protobuf::RepeatedPtrField<proto::TraceValue>& b) {
  for (int i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string x = i < a.size() ? value_text(a.Get(i), 32) : "(none)";
    const std::string y = i < b.size() ? value_text(b.Get(i), 32) : "(none)";
    if (x == y) {
      out << "    " << what << " " << i << ": " << x << "  (same)\n";
    } else {
      out << "    " << what << " " << i << ": A " << x << "\n"
          << "    " << std::string(std::char_traits<char>::length(what), ' ') << "    B " << y << "  (differs)\n";
    }
  }
}

}  // namespace

std::string format_trace_report(const proto::TraceReport& r) {
  std::ostringstream out;
  out << "trace of step " << r.step() << ": " << r.run_a() << (r.run_b().empty() ? "" : " vs " + r.run_b()) << "\n";
  if (r.walk_size() > 0) {
    out << "  the records part at step " << r.requested_step() << "; bisected on the state entering each step:\n";
    for (const auto& w : r.walk()) out << "    " << w << "\n";
  }
  out << "  verdict: " << verdict_name(r.verdict()) << "\n";
  out << "  " << r.summary() << "\n";
  if (r.verdict() == proto::NONDETERMINISTIC_OP || r.verdict() == proto::EXTERNAL_INPUT ||
      r.verdict() == proto::OTHER_RANK || (r.verdict() == proto::SEQUENCE_MISMATCH && r.has_op_a())) {
    const auto& op = r.op_a();
    out << "  op " << r.op_index() << ": " << op.name() << ", " << phase_tag(op.phase()) << ", thread " << op.thread();
    if (!op.scope().empty()) out << ", scope " << op.scope();
    if (!op.autograd_node().empty()) out << ", autograd node " << op.autograd_node();
    out << "\n";
    print_values(out, "input", r.op_a().inputs(), r.op_b().inputs());
    print_values(out, "output", r.op_a().outputs(), r.op_b().outputs());
  }
  out << "  ops in the window: " << r.ops_a() << " (A), " << r.ops_b() << " (B)\n";
  if (!r.trace_a().empty()) out << "  traces: " << r.trace_a() << "\n          " << r.trace_b() << "\n";
  if (r.knobs_size() > 0) {
    out << "settings (run A's step re-executed with one setting changed):\n";
    for (const auto& k : r.knobs()) {
      out << "  " << k.setting() << " " << k.from() << " -> " << k.to() << ": "
          << (k.matches_b()      ? "matches run B"
              : k.parts_from_a() ? "parts from run A"
                                 : "no effect");
      if (!k.first_difference().empty()) out << " (first differing output: " << k.first_difference() << ")";
      out << "\n";
    }
    out << "  " << r.knobs_summary() << "\n";
  }
  return out.str();
}

std::string format_trace(const proto::Trace& trace) {
  std::ostringstream out;
  const auto& s = trace.start().state();
  out << "step " << s.step() << " of " << trace.start().run_id() << "\n";
  out << "state entering the step:\n";
  out << "  parameters " << s.param_digest() << "\n";
  const std::map<std::string, std::string> tensors(s.tensor_digests().begin(), s.tensor_digests().end());
  for (const auto& [name, digest] : tensors) out << "    " << name << " " << digest << "\n";
  out << "  optimizer  " << (s.optimizer_digest().empty() ? "(not given)" : s.optimizer_digest()) << "\n";
  out << "  rng        " << s.rng_digest() << "\n";
  out << "  batch      " << (s.batch_digest().empty() ? "(not given)" : s.batch_digest()) << "\n";
  if (!trace.start().determinism().empty()) out << "determinism: " << trace.start().determinism() << "\n";
  out << "ops (seq phase thread name [scope] inputs -> outputs; digests cut to 16 hex digits):\n";
  for (const auto& op : trace.ops()) {
    char head[32];
    std::snprintf(head, sizeof head, "%5lld %s t%d ", static_cast<long long>(op.seq()), phase_tag(op.phase()),
                  op.thread());
    out << head << op.name();
    if (!op.scope().empty() || !op.autograd_node().empty()) {
      out << " [" << op.scope() << (op.scope().empty() || op.autograd_node().empty() ? "" : " / ") << op.autograd_node()
          << "]";
    }
    out << " " << values_text(op.inputs()) << " -> " << values_text(op.outputs()) << "\n";
  }
  const auto& e = trace.end();
  out << trace.ops_size() << " ops; loss " << internal::loss_of(e).text_with_bits() << "; window " << e.window_s()
      << " s\n";
  return out.str();
}

}  // namespace repro
