// The RecordFunction callbacks behind TraceRecorder (repro/trace.h). Callbacks are plain
// function pointers, so their state lives here: one global recording (under a mutex) and
// per-thread nesting depth and scope stacks.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "repro/digest.h"
#include "repro/error.h"
#include "repro/trace.h"
#include "trace/trace_window.h"

namespace repro {
namespace {

struct Recording {
  std::mutex mutex;
  bool active = false;
  std::vector<proto::OpEvent> ops;
  std::thread::id owner;
  std::unordered_map<std::thread::id, int> threads;
  std::unordered_map<int64_t, std::string> scope_of_seq;  // autograd sequence nr -> forward scope
  bool backward_seen = false;
};
Recording g_recording;

struct ThreadState {
  int depth = 0;                         // traced ops running on this thread
  std::vector<int> saved_depth;          // depth outside each autograd node we are inside
  std::vector<std::string> nodes;        // autograd nodes (innermost last)
  std::vector<std::string> node_scopes;  // the forward scope of each
  std::vector<std::string> scopes;       // USER_SCOPE names (innermost last)
};
thread_local ThreadState t_state;

// The autograd engine wraps each node it evaluates in a FUNCTION-scope RecordFunction named
// "autograd::engine::evaluate_function: <node>": not an op but backward work, holding the node
// (a BACKWARD_FUNCTION scope) and what the engine does around it (summing a gradient to a
// broadcast input's shape, accumulating gradients that meet).
bool is_backward_scope(const at::RecordFunction& fn) {
  return fn.scope() == at::RecordScope::BACKWARD_FUNCTION || std::strncmp(fn.name(), "autograd::", 10) == 0;
}

std::string node_name(const char* name) {
  const char* colon = std::strstr(name, ": ");
  return colon != nullptr ? std::string(colon + 2) : std::string(name);
}

// Carries the op's slot from its start callback to its end callback.
struct OpContext : at::ObserverContext {
  explicit OpContext(std::size_t i) : index(i) {}
  std::size_t index;
};

void add_scalar(proto::TraceValue* v, const c10::IValue& value) {
  std::ostringstream text;
  text << value;
  v->set_value(text.str());
  Hasher h;
  h.update(value.tagKind());
  if (value.isDouble()) {
    const double d = value.toDouble();
    h.update(&d, sizeof d);
  } else if (value.isInt()) {
    const int64_t i = value.toInt();
    h.update(&i, sizeof i);
  } else {
    h.update(text.str());
  }
  v->set_digest(h.hex_digest());
}

void add_value(google::protobuf::RepeatedPtrField<proto::TraceValue>* out, const c10::IValue& value) {
  if (value.isTensor()) {
    auto* v = out->Add();
    const at::Tensor& t = value.toTensor();
    if (!t.defined()) {
      v->set_kind("undefined");
      v->set_digest(digest_tensor(t));
      return;
    }
    v->set_kind("tensor");
    v->set_dtype(c10::toString(t.scalar_type()));
    for (const auto d : t.sizes()) v->add_shape(d);
    try {
      v->set_digest(digest_tensor(t));
    } catch (const std::exception& e) {  // sparse, quantized, meta...: named, not digested
      v->set_kind("other");
      v->set_value(std::string("tensor not digested: ") + e.what());
    }
    return;
  }
  if (value.isTensorList() || (value.isList() && !value.isIntList() && !value.isDoubleList() && !value.isBoolList())) {
    for (const auto& element : value.toListRef()) add_value(out, element);
    return;
  }
  auto* v = out->Add();
  if (value.isNone()) {
    v->set_kind("none");
    v->set_value("None");
    v->set_digest(digest_bytes("None"));
  } else if (value.isScalar() || value.isBool() || value.isString() || value.isList() || value.isDevice()) {
    v->set_kind("scalar");
    add_scalar(v, value);
  } else {
    v->set_kind("other");
    v->set_value(value.tagKind());
  }
}

// Where an op runs on this thread: the innermost named scope (a backward op's: its forward op's
// when no scope is open) and the autograd node running it.
void set_place(proto::OpEvent* op, const ThreadState& ts) {
  if (!ts.scopes.empty()) op->set_scope(ts.scopes.back());
  if (ts.nodes.empty()) return;
  op->set_autograd_node(ts.nodes.back());
  if (op->scope().empty()) op->set_scope(ts.node_scopes.back());
}

proto::Phase phase_now(const ThreadState& ts) {  // under the mutex
  return !ts.nodes.empty() ? proto::BACKWARD : g_recording.backward_seen ? proto::UPDATE : proto::FORWARD;
}

int thread_number() {  // under the mutex
  const auto id = std::this_thread::get_id();
  if (id == g_recording.owner) return 0;
  const auto it = g_recording.threads.find(id);
  if (it != g_recording.threads.end()) return it->second;
  const int n = static_cast<int>(g_recording.threads.size()) + 1;
  g_recording.threads.emplace(id, n);
  return n;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  // Ops a kernel runs inside at::parallel_for belong to that kernel: inline on one thread they
  // are nested, on the intra-op pool's threads they would look outermost, in no stable order.
  if (at::in_parallel_region()) return nullptr;
  // An asynchronous RecordFunction (c10d's "gloo:all_reduce" around a collective's work) ends
  // on another thread: not a scope of this one. The collective is recorded by ExternalOp.
  if (fn.isAsync()) return nullptr;
  auto& ts = t_state;
  if (fn.scope() == at::RecordScope::USER_SCOPE) {
    ts.scopes.emplace_back(fn.name());
    return nullptr;
  }
  if (is_backward_scope(fn)) {
    // Ops an autograd node runs are outermost within it, whichever thread the engine uses.
    ts.saved_depth.push_back(ts.depth);
    ts.depth = 0;
    ts.nodes.push_back(node_name(fn.name()));
    std::string scope;
    {
      std::lock_guard<std::mutex> lock(g_recording.mutex);
      g_recording.backward_seen = true;
      const auto it = g_recording.scope_of_seq.find(fn.seqNr());
      if (it != g_recording.scope_of_seq.end()) scope = it->second;
    }
    if (scope.empty() && !ts.node_scopes.empty()) scope = ts.node_scopes.back();
    ts.node_scopes.push_back(scope);
    return nullptr;
  }
  if (ts.depth++ > 0) return nullptr;
  const at::DisableRecordFunctionGuard no_record;
  const at::NoGradGuard no_grad;
  proto::OpEvent op;
  op.set_name(fn.name());
  set_place(&op, ts);
  // A boxed call (the TorchScript interpreter) hands over its whole stack as the inputs: the
  // op's own are the last of them, as many as its schema takes.
  const auto inputs = fn.inputs();
  std::size_t first_input = 0;
  if (const auto schema = fn.operator_schema(); schema && inputs.size() > schema->arguments().size()) {
    first_input = inputs.size() - schema->arguments().size();
  }
  for (std::size_t i = first_input; i < inputs.size(); ++i) add_value(op.mutable_inputs(), inputs[i]);
  std::lock_guard<std::mutex> lock(g_recording.mutex);
  if (!g_recording.active) return nullptr;
  op.set_thread(thread_number());
  op.set_phase(phase_now(ts));
  if (op.phase() == proto::FORWARD && fn.seqNr() >= 0) g_recording.scope_of_seq[fn.seqNr()] = op.scope();
  const std::size_t index = g_recording.ops.size();
  op.set_seq(static_cast<int64_t>(index));
  g_recording.ops.push_back(std::move(op));
  return std::make_unique<OpContext>(index);
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* context) {
  if (at::in_parallel_region() || fn.isAsync()) return;
  auto& ts = t_state;
  if (fn.scope() == at::RecordScope::USER_SCOPE) {
    if (!ts.scopes.empty()) ts.scopes.pop_back();
    return;
  }
  if (is_backward_scope(fn)) {
    if (!ts.nodes.empty()) {
      ts.nodes.pop_back();
      ts.node_scopes.pop_back();
      ts.depth = ts.saved_depth.back();
      ts.saved_depth.pop_back();
    }
    return;
  }
  if (ts.depth > 0) --ts.depth;
  if (context == nullptr) return;
  const at::DisableRecordFunctionGuard no_record;
  const at::NoGradGuard no_grad;
  google::protobuf::RepeatedPtrField<proto::TraceValue> outputs;
  // The same for the outputs: as many as the schema returns, the last of the stack.
  const auto& all = fn.outputs();
  std::size_t first = 0;
  if (const auto schema = fn.operator_schema(); schema && all.size() > schema->returns().size()) {
    first = all.size() - schema->returns().size();
  }
  for (std::size_t i = first; i < all.size(); ++i) add_value(&outputs, all[i]);
  std::lock_guard<std::mutex> lock(g_recording.mutex);
  const auto index = static_cast<OpContext*>(context)->index;
  if (index < g_recording.ops.size()) g_recording.ops[index].mutable_outputs()->Swap(&outputs);
}

google::protobuf::RepeatedPtrField<proto::TraceValue> tensor_values(const std::vector<at::Tensor>& tensors) {
  google::protobuf::RepeatedPtrField<proto::TraceValue> out;
  for (const auto& t : tensors) add_value(&out, t);
  return out;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

TraceRecorder::TraceRecorder(proto::TraceStart start) : start_(std::move(start)) {
  {
    std::lock_guard<std::mutex> lock(g_recording.mutex);
    if (g_recording.active) throw Error::usage("a trace window is already open in this process");
    g_recording.active = true;
    g_recording.ops.clear();
    g_recording.threads.clear();
    g_recording.scope_of_seq.clear();
    g_recording.backward_seen = false;
    g_recording.owner = std::this_thread::get_id();
  }
  t_state = ThreadState{};
  handle_ = at::addGlobalCallback(
      at::RecordFunctionCallback(on_start, on_end)
          .needsInputs(true)
          .needsOutputs(true)
          .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION, at::RecordScope::USER_SCOPE}));
  active_ = true;
  opened_s_ = now_s();
}

TraceRecorder::~TraceRecorder() {
  if (!active_) return;
  at::removeCallback(handle_);
  std::lock_guard<std::mutex> lock(g_recording.mutex);
  g_recording.active = false;
  g_recording.ops.clear();
}

proto::Trace TraceRecorder::finish(proto::TraceEnd end) {
  proto::Trace trace;
  if (!active_) return trace;
  at::removeCallback(handle_);
  active_ = false;
  end.set_window_s(now_s() - opened_s_);
  std::lock_guard<std::mutex> lock(g_recording.mutex);
  g_recording.active = false;
  *trace.mutable_start() = std::move(start_);
  for (auto& op : g_recording.ops) *trace.add_ops() = std::move(op);
  g_recording.ops.clear();
  end.set_ops(trace.ops_size());
  *trace.mutable_end() = std::move(end);
  return trace;
}

namespace internal {

ExternalOp::ExternalOp(const char* name, const std::vector<at::Tensor>& inputs) {
  auto& ts = t_state;
  if (at::in_parallel_region() || ts.depth > 0) return;
  {
    std::lock_guard<std::mutex> lock(g_recording.mutex);
    if (!g_recording.active) return;
  }
  const at::DisableRecordFunctionGuard no_record;
  const at::NoGradGuard no_grad;
  proto::OpEvent op;
  op.set_name(name);
  set_place(&op, ts);
  auto values = tensor_values(inputs);
  op.mutable_inputs()->Swap(&values);
  std::lock_guard<std::mutex> lock(g_recording.mutex);
  if (!g_recording.active) return;
  op.set_thread(thread_number());
  op.set_phase(phase_now(ts));
  index_ = static_cast<long long>(g_recording.ops.size());
  op.set_seq(index_);
  g_recording.ops.push_back(std::move(op));
  ++ts.depth;  // ops run while the collective runs are part of it
}

ExternalOp::~ExternalOp() {
  if (index_ >= 0 && t_state.depth > 0) --t_state.depth;  // the call threw: recorded without outputs
}

void ExternalOp::finish(const std::vector<at::Tensor>& outputs) {
  if (index_ < 0) return;
  if (t_state.depth > 0) --t_state.depth;
  google::protobuf::RepeatedPtrField<proto::TraceValue> values;
  {
    const at::DisableRecordFunctionGuard no_record;
    const at::NoGradGuard no_grad;
    values = tensor_values(outputs);
  }
  std::lock_guard<std::mutex> lock(g_recording.mutex);
  const auto index = static_cast<std::size_t>(index_);
  if (g_recording.active && index < g_recording.ops.size()) g_recording.ops[index].mutable_outputs()->Swap(&values);
  index_ = -1;
}

}  // namespace internal
}  // namespace repro
